#!/usr/bin/env bash
# Builds and runs tf-bench, the receiver benchmark: the tables go to stdout,
# the figures to build/bench/results.{json,csv,md} (build/bench/smoke/ for
# --smoke).
#
#   tests/bench/run.sh [--smoke] [--no-profile | --profile-only]
#                      [TF_BENCH_OPTION...]
#
# The full run (default) takes about 8 minutes: every phase, then, when
# valgrind is installed, callgrind profiles of a few receivers
# (build/bench/profile.{md,json}).  --smoke takes about 10 seconds and is
# what CI runs: it asserts no timing, it fails only if a phase could not
# measure at all.  Other options go to tf-bench (tf-bench --help), e.g.
# --phases throughput --sizes 4k,2m --reps 3.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

smoke=0
profile=1
bench_run=1
args=()
for arg in "$@"; do
  case $arg in
    --smoke) smoke=1; args+=("$arg") ;;
    --no-profile) profile=0 ;;
    --profile-only) bench_run=0 ;;
    *) args+=("$arg") ;;
  esac
done

# Build output goes to stderr: stdout is the results.
pipelines/build.sh build >&2

# A smoke run must not overwrite the figures of the last full run.
out=build/bench
((smoke)) && out=build/bench/smoke
bench=build/tests/bench/tf-bench
mkdir -p "$out"
export GST_PLUGIN_PATH=$root/build/gst-plugin
export GST_REGISTRY=$root/$out/registry.bin
# Debug logging and tracers would be measured along with the receivers.
unset GST_DEBUG GST_DEBUG_FILE GST_TRACERS

status=0
if ((bench_run)); then
  "$bench" --out "$out" ${args[@]+"${args[@]}"} || status=$?
fi

if ((smoke == 0 && profile == 1)); then
  if command -v valgrind >/dev/null; then
    echo "tf-bench: callgrind profiles" >&2
    # RECEIVER:SIZE[@FPS]:FRAMES.  tcpserversrc shows what a user-space
    # copy and per-read allocations look like in the same figures; floor
    # is the GStreamer framework alone; @30 is a camera's rate, where
    # every frame starts with a wait.
    specs=(bare:2m:60 tf-raw:2m:60 tf-header:2m:60 tf-raw:2m@30:30
      floor:4k:20000 tf-raw:4k:20000 tf-header:4k:20000 tcpserversrc:2m:20)
    names=()
    for spec in "${specs[@]}"; do
      IFS=: read -r rx size frames <<<"$spec"
      name=$rx-${size/@/-at}
      # --instr-atstart=no: only the window tf-bench brackets is slowed
      # down and counted.
      rm -f "$out/callgrind.$name.out"*
      if valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$out/callgrind.$name.out" \
        "$bench" --profile "$rx:$size" --profile-frames "$frames" \
        >"$out/profile.$name.json" 2>"$out/profile.$name.log"; then
        names+=("$name")
      else
        echo "tf-bench: profile $name failed, see $out/profile.$name.log" >&2
        status=1
      fi
    done
    if ((${#names[@]} > 0)); then
      python3 tests/bench/callgrind-summary.py "$out" "${names[@]}"
    fi
  else
    echo "tf-bench: valgrind is not installed, no profiles" \
      "(apt-get install valgrind)" >&2
  fi
fi
exit "$status"
