#!/usr/bin/env bash
# Builds the project with AddressSanitizer, LeakSanitizer and UBSan in
# build-asan/ and runs the meson tests there: every suite (core, element,
# client, sink, faults, interop, ...) but the benchmark's, and one case,
# both explained at TF_SANITIZE_SKIP below.  Fails on any failed test and on
# any sanitizer report, from any process a test started (tf-camsim too).
#
#   tests/sanitize.sh [MESON_TEST_ARG...]     e.g. tests/sanitize.sh --suite peers
#
# Arguments replace the default selection of tests.
# Reports go to build-asan/sanitize/<test case>.<pid>, one file per process
# that had something to say; the script prints them all at the end.
#
# Leaks: only GStreamer's and GLib's own, listed and explained one by one in
# tests/lsan.supp, are suppressed.  Nothing in gst-plugin/, src/ or tests/
# may ever be.
#
# The plugin registry: an ASan plugin cannot be loaded by gst-plugin-scanner,
# which is not linked with ASan ("ASan runtime does not come first in initial
# library list"), so the plugin would be blacklisted and every element test
# would fail.  GST_REGISTRY_FORK=no or GST_PLUGIN_SCANNER=/nonexistent (an
# empty GST_PLUGIN_SCANNER counts as unset) do make the scan happen in the
# test process, but that loads every GStreamer plugin installed on the
# machine into each test that finds the registry stale, and their leaks
# (fontconfig, udev, OpenNI2 drivers, ...) depend on what the machine has.
# So the registry is built once, before the tests, by gst-inspect-1.0 with
# libasan preloaded (its scanner inherits LD_PRELOAD and loads our plugin
# fine), and the tests run with GST_REGISTRY_UPDATE=no: they only load the
# plugins whose elements they create.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Internal: meson test runs every test through this, so each process's
# report file is named after the test case it belongs to.
if [[ ${1:-} == --wrap ]]; then
  shift
  name=${GST_CHECKS:-$(basename "$1")}
  export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$TF_SANITIZE_LOGS/$name"
  export UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$TF_SANITIZE_LOGS/$name"
  exec "$@"
fi

cd "$root"

# shellcheck source=pipelines/ensure-deps.sh disable=SC1091
source pipelines/ensure-deps.sh
tf_ensure_deps --check
# shellcheck source=tests/checks-common.sh disable=SC1091
source tests/checks-common.sh

builddir=build-asan
# gcc: its ASan runtime is a shared library the plugin links, and so can be
# preloaded for the registry scan below (clang links it into executables).
export CC=gcc
# -Db_lundef=false: the plugin is a shared module whose ASan symbols are
# resolved by the test executable, which links the runtime.
# -fno-sanitize-recover=undefined: undefined behaviour aborts the test
# instead of printing and going on.  Frame pointers give ASan whole stacks.
options=(-Dtests=enabled -Db_sanitize=address,undefined -Db_lundef=false
  "-Dc_args=-fno-sanitize-recover=undefined -fno-omit-frame-pointer")
if [[ -f $builddir/meson-private/coredata.dat ]]; then
  # meson 1.0 ignores a changed c_args on "setup --reconfigure"; configure
  # applies it.  If this fails, build.sh sets the directory up anew.
  meson configure "$builddir" "${options[@]}" >/dev/null 2>&1 || true
fi
tf_check_build sanitize "$builddir" "${options[@]}" || exit 1

logs=$root/$builddir/sanitize
rm -rf "$logs"
mkdir -p "$logs"

# Build the registries the tests name (GST_REGISTRY in their environment)
# anew, outside any test: see the top of this file.
# The ASan runtime the plugin was linked with (gcc's libasan.so.N).
asan_rt=$(ldd "$builddir/gst-plugin/libgsttcpframe.so" |
  awk '/libasan\.so/ { print $3 }')
if [[ ! -f $asan_rt ]]; then
  echo "sanitize: $builddir/gst-plugin/libgsttcpframe.so links no libasan" >&2
  exit 1
fi
tf_check_registries sanitize "$builddir" "$logs" \
  LD_PRELOAD="$asan_rt" ASAN_OPTIONS=detect_leaks=0 || exit 1
export GST_REGISTRY_UPDATE=no

# halt_on_error: the first error ends the process.  fast_unwind_on_malloc=0:
# GLib and GStreamer are built without frame pointers, and leak stacks cut
# at g_malloc could be neither reviewed nor matched by a suppression.
# malloc_context_size: deep enough to reach our frames under GObject's.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:print_stacktrace=1:detect_leaks=1:fast_unwind_on_malloc=0:malloc_context_size=50:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# GLib's slice allocator would hide its blocks' bounds (and leaks) from ASan.
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
export TF_SANITIZE_LOGS=$logs
# ASan and UBSan slow the code about twice: the slack of the tests' timing
# bounds doubles with it (tf_test_scale_ms(), tests/tf-testpeer.h), never
# the delays under them nor a lower bound.
export TF_TEST_TIME_SCALE=${TF_TEST_TIME_SCALE:-2}

# Every meson test but these:
# - the suite bench: tf-bench replaces malloc, calloc and realloc itself to
#   count allocations (tests/bench/interpose.list), which cannot work with
#   ASan's allocator: it dies in ASan's own start-up ("CHECK failed:
#   asan_posix.cpp tsd_key_inited").  It runs uninstrumented in tests/run.sh.
# - test_faults_connect_cycles_no_leaks: asserts that RSS grows by at most
#   2 MiB over 10000 connections, which ASan's quarantine of freed memory
#   (256 MiB) and its allocator's caches make impossible (seen: 90 MiB).
#   What it checks, leaks, LeakSanitizer checks exactly in every other case;
#   it runs natively in tests/run.sh.  (It could run here if the test left
#   out its RSS bound under ASan: #ifdef __SANITIZE_ADDRESS__.)
# The pipelines suite skips itself in an instrumented build.
TF_SANITIZE_SKIP=(test_faults_connect_cycles_no_leaks)
if (($# > 0)); then
  selection=("$@")
else
  mapfile -t selection < <(meson introspect "$builddir" --tests | python3 -c '
import json, sys
skip = set(sys.argv[1].split())
for t in json.load(sys.stdin):
    if "bench" not in {s.split(":")[-1] for s in t["suite"]} \
            and t["name"] not in skip:
        print(t["name"])' "${TF_SANITIZE_SKIP[*]}")
fi

# meson names its logs sanitize-<wrapper>.{txt,json}: start without old ones.
rm -f "$builddir"/meson-logs/sanitize*
status=0
meson test -C "$builddir" --no-rebuild --logbase sanitize \
  --wrapper "$root/tests/sanitize.sh --wrap" "${selection[@]}" \
  >"$logs/meson-test.log" 2>&1 || status=$?
summary=$(tf_check_summary "$logs/meson-test.log")

shopt -s nullglob
reports=("$logs"/*.[0-9]*)
# A leaked element drags hundreds of indirect leaks along: the head of each
# report says what and where, the whole one stays in $logs.
for r in "${reports[@]}"; do
  echo "---- sanitizer report: $(basename "$r")"
  head -n 120 "$r"
  lines=$(wc -l <"$r")
  if ((lines > 120)); then
    echo "[... $((lines - 120)) more lines in $r]"
    grep -E '^SUMMARY:' "$r" || true
  fi
done
# UBSan (a runtime of its own beside ASan's) writes to stderr whatever
# log_path says; so does a sanitizer that fails before reading its options.
testlog=$(ls "$builddir"/meson-logs/sanitize*.txt 2>/dev/null | head -n 1)
testlog=${testlog:-/dev/null}
pattern='runtime error:|ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|Sanitizer: CHECK failed'
in_log=$(grep -cE "$pattern" "$testlog" || true)
if ((in_log > 0)); then
  echo "---- sanitizer reports in the tests' output ($testlog):"
  grep -E -B 3 -A 25 "$pattern" "$testlog" | head -n 400
fi
tf_check_failed_cases "$logs/meson-test.log" "$testlog"

if ((${#reports[@]} + in_log > 0)); then
  echo "sanitize: $((${#reports[@]} + in_log)) sanitizer report(s) (above, and in $logs/); tests: $summary"
  exit 1
fi
if ((status != 0)); then
  echo "sanitize: meson test failed (exit $status): $summary; log: $logs/meson-test.log"
  exit 1
fi
echo "sanitize: no sanitizer report; tests: $summary"
