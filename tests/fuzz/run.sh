#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each one
# for a bounded time on a copy of its seeds (tests/fuzz/corpus/TARGET/, which
# stays untouched).  Fails if any target finds a crash, a leak, a hang or an
# invariant that breaks.
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET]        (default 60)
#
# There are five targets, run one after the other, so a run takes about
# 5 x SECONDS_PER_TARGET plus the build.  It prints one line per target:
# runs, runs per second and coverage, or what broke and the input that broke
# it, in hex.  Everything else is in build-fuzz/fuzz/: the logs, the grown
# corpora, and the inputs that failed (artifacts/), which replay with
#
#   TF_FUZZ_VERBOSE=1 build-fuzz/tests/fuzz/TARGET build-fuzz/fuzz/artifacts/FILE
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

secs=${1:-60}
if ! [[ $secs =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: tests/fuzz/run.sh [SECONDS_PER_TARGET]" >&2
  exit 2
fi

# shellcheck source=pipelines/ensure-deps.sh disable=SC1091
source pipelines/ensure-deps.sh
tf_ensure_deps --fuzz

# A build of its own: everything in it is compiled by clang, and the targets
# carry the sanitizers.  The top-level meson.build only looks into tests/
# when tests are enabled, hence -Dtests=enabled.
builddir=build-fuzz
export CC=clang
options=(-Dfuzzing=true -Dtests=enabled)
if [[ -f $builddir/meson-private/coredata.dat ]]; then
  if ! meson setup --reconfigure "$builddir" "${options[@]}" >/dev/null; then
    echo "fuzz: reconfiguring $builddir failed, setting it up anew" >&2
    meson setup --wipe "$builddir" "${options[@]}" >/dev/null
  fi
else
  meson setup "$builddir" "${options[@]}" >/dev/null
fi
# Only the fuzz targets: the rest of the project is not needed here.
meson compile -C "$builddir" fuzz >/dev/null

targets=(fuzz_framer_raw fuzz_framer_length fuzz_framer_header
  fuzz_framer_jpeg fuzz_allowlist)
out=$builddir/fuzz
rm -rf "$out"
mkdir -p "$out/artifacts"

# GLib's slice allocator would hide its blocks' bounds from ASan.
export G_SLICE=always-malloc
export UBSAN_OPTIONS=print_stacktrace=1

failed=0
for t in "${targets[@]}"; do
  corpus=$out/corpus/$t
  log=$out/$t.log
  mkdir -p "$corpus"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/

  status=0
  # -timeout: an input that takes 10 s is a hang, and a failure.
  "$builddir/tests/fuzz/$t" "$corpus" -max_total_time="$secs" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
    >"$log" 2>&1 || status=$?

  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")

  if ((status == 0)); then
    echo "$t: ok, ${runs:-?} runs in ${secs} s (${rate:-?}/s)," \
      "cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
    continue
  fi

  failed=$((failed + 1))
  what=$(grep -m 1 -E 'invariant broken|ERROR: [A-Za-z]*Sanitizer|runtime error|ERROR: libFuzzer|ALARM|-- CRITICAL|-- WARNING' "$log" || true)
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  echo "$t: FAILED (exit $status) after ${runs:-?} runs: ${what:-see $log}"
  if [[ -n $artifact && -f $artifact ]]; then
    echo "  input ($(stat -c %s "$artifact") bytes, first 512 shown): $artifact"
    head -c 512 "$artifact" | od -A x -t x1z -v | sed 's/^/    /'
  fi
  echo "  log: $log"
  # The start of the report, with the stack, so CI's output says enough.
  grep -m 1 -A 30 -E 'invariant broken|ERROR: [A-Za-z]*Sanitizer|runtime error|ERROR: libFuzzer|ALARM|-- CRITICAL|-- WARNING' "$log" \
    | sed 's/^/    /' || true
done

# Deliberately not "N passed, N failed": CI reads that line from the test
# suite, and this one must not be taken for it.
if ((failed > 0)); then
  echo "fuzz: $failed of ${#targets[@]} targets failed"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${secs} s each without a failure"
