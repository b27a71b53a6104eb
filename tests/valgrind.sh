#!/usr/bin/env bash
# Runs the element test suites (tcpframesrc, peers, badinput, client,
# tcpframesink) under valgrind memcheck, from a plain build in
# build-valgrind/.  Fails on any failed test and on any memcheck error:
# invalid reads and writes, uses of uninitialised values, bad frees, and
# definite leaks.  Suppressed: Debian's debian.supp and tests/valgrind.supp
# (GLib's and GStreamer's own, each one explained).
#
#   tests/valgrind.sh [MESON_TEST_ARG...]     e.g. tests/valgrind.sh --suite peers
#
# Arguments replace the default suite selection.  Reports go to
# build-valgrind/valgrind/<test case>.<pid>, with a suppression for each
# error (--gen-suppressions=all), ready to be reviewed; the script prints the
# ones with errors.
#
# Memcheck slows the code it runs by 20 to 50 times.  The slack of the
# timing bounds it would break scales with TF_TEST_TIME_SCALE (below).  A
# case that cannot run here even so goes in TF_VALGRIND_SKIP, with its
# reason; today none does, so every case of those suites runs here.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Internal: meson test runs every test through this, so that each report is
# named after its test case.
if [[ ${1:-} == --wrap ]]; then
  shift
  name=${GST_CHECKS:-$(basename "$1")}
  # Debian's debian.supp (libc, dlopen, GLib's type registry) and ours.
  # Not GLib's own glib.supp (libglib2.0-dev): every entry of it that covers
  # definite leaks is not needed here, and some would hide leaks of ours,
  # e.g. "malloc ... g_build_filename" any g_build_filename() result a test
  # forgets to free.  Debian ships no GStreamer suppressions.
  supps=()
  for s in /usr/lib/valgrind/debian.supp \
    /usr/lib/x86_64-linux-gnu/valgrind/debian.supp \
    "$root/tests/valgrind.supp"; do
    if [[ -f $s ]]; then
      supps+=("--suppressions=$s")
    fi
  done
  # --errors-for-leak-kinds=definite: GStreamer and GLib keep plenty of
  # memory reachable, or reachable only through interior pointers
  # ("possibly lost"), until exit, by design.
  exec valgrind --tool=memcheck --error-exitcode=1 \
    --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --num-callers=40 --gen-suppressions=all \
    "${supps[@]}" \
    --log-file="$TF_VALGRIND_LOGS/$name.%p" "$@"
fi

cd "$root"

# shellcheck source=pipelines/ensure-deps.sh disable=SC1091
source pipelines/ensure-deps.sh
tf_ensure_deps --check
# shellcheck source=tests/checks-common.sh disable=SC1091
source tests/checks-common.sh

builddir=build-valgrind
tf_check_build valgrind "$builddir" -Dtests=enabled || exit 1

logs=$root/$builddir/valgrind
rm -rf "$logs"
mkdir -p "$logs"

# The plugin registries the tests name, built once before them (by the
# uninstrumented gst-plugin-scanner), so no test scans plugins under
# valgrind, or several at once.
tf_check_registries valgrind "$builddir" "$logs" || exit 1
export GST_REGISTRY_UPDATE=no

# Memcheck runs the code 20 to 50 times slower, which no "within N ms" holds
# through at native slack.  tf_test_scale_ms() (tests/tf-testpeer.c) scales
# a bound's slack, never the delay under it nor a lower bound, by
# TF_TEST_TIME_SCALE.  A file whose bounds memcheck breaks defines its
# slack constants through it (e.g. #define PUSH_MS tf_test_scale_ms (50)),
# so its bounds stay as tight as ever natively.
#
# Cases that cannot run here even so: a bound not yet built on scaled
# slack, a race in the test that the slowdown widens, an element bug it
# exposes.  Each with its reason, and out again once fixed; they still run
# natively (tests/run.sh) and under ASan (tests/sanitize.sh).
TF_VALGRIND_SKIP=()
# Set it beforehand to try another factor, e.g. to see how close a case
# runs to its bounds.
export TF_TEST_TIME_SCALE=${TF_TEST_TIME_SCALE:-10}

# Without arguments: every case of the element suites but the skipped ones,
# by name (each gst-check case is a meson test of its own).
suites=(tcpframesrc peers badinput client tcpframesink)
if (($# > 0)); then
  selection=("$@")
else
  mapfile -t selection < <(meson introspect "$builddir" --tests | python3 -c '
import json, sys
suites, skip = set(sys.argv[1].split()), set(sys.argv[2].split())
for t in json.load(sys.stdin):
    if {s.split(":")[-1] for s in t["suite"]} & suites and t["name"] not in skip:
        print(t["name"])' "${suites[*]}" "${TF_VALGRIND_SKIP[*]-}")
fi

# The slice allocator hides blocks from memcheck; gc-friendly clears freed
# pointers so leaks are reported where they happen.  gst-check runs each
# case in a fork (valgrind follows it: one report per process); a case that
# fails then ends at once, instead of hanging in gst_deinit on the threads
# it left running.
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
export TF_VALGRIND_LOGS=$logs

# meson names its logs valgrind-<wrapper>.{txt,json}: start without old ones.
rm -f "$builddir"/meson-logs/valgrind*
status=0
meson test -C "$builddir" --no-rebuild --timeout-multiplier 2 --logbase valgrind \
  --wrapper "$root/tests/valgrind.sh --wrap" "${selection[@]}" \
  >"$logs/meson-test.log" 2>&1 || status=$?
summary=$(tf_check_summary "$logs/meson-test.log")

# Which reports count.  Each case's processes: the one meson started
# (gst-check's runner), the fork that runs the case, and any fork of that
# fork which never exec'd: GLib's g_spawn_async() forks twice, and its
# intermediate child leaves with _exit() at once.  A leak check there sees
# every block only another thread pointed to as lost (the threads do not
# survive fork), so leaks count only in the first two; any other error
# counts everywhere.
bad=0
python3 - "$logs" >"$logs/reports.txt" <<'PY' || bad=$?
import glob, os, re, sys

logs = sys.argv[1]
procs = {}
for path in glob.glob(os.path.join(logs, "*.[0-9]*")):
    name, pid = os.path.basename(path).rsplit(".", 1)
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    parent = re.search(r"Parent PID: (\d+)", text)
    procs[pid] = (name, parent.group(1) if parent else None, path, text)

def depth(pid):
    d = 0
    while procs[pid][1] in procs and d < 10:
        pid, d = procs[pid][1], d + 1
    return d

bad = 0
for pid in sorted(procs, key=int):
    name, _, path, text = procs[pid]
    # Error records: blank-line separated blocks that start with what went
    # wrong; the leak ones say "definitely lost".
    records = [r for r in re.split(r"\n==\d+== \n", text)
               if re.search(r"^==\d+== (Invalid|Conditional|Use of|Syscall|"
                            r"Mismatched|Source and dest|Argument|"
                            r".* definitely lost in loss record)", r, re.M)]
    if depth(pid) >= 2:
        records = [r for r in records if "definitely lost" not in r]
    if not records and not (depth(pid) < 2 and
                            re.search(r"ERROR SUMMARY: [1-9]", text)):
        continue
    bad += 1
    print(f"---- memcheck report: {os.path.basename(path)}")
    lines = [l for l in text.splitlines() if not re.fullmatch(r"==\d+== *", l)]
    print("\n".join(lines[:200]))
    if len(lines) > 200:
        print(f"[... {len(lines) - 200} more lines in {path}]")
sys.exit(min(bad, 100))
PY
cat "$logs/reports.txt"
tf_check_failed_cases "$logs/meson-test.log" "$(ls "$builddir"/meson-logs/valgrind*.txt)"

if ((bad > 0)); then
  echo "valgrind: memcheck errors in $bad process(es) (above, and in $logs/); tests: $summary"
  exit 1
fi
if ((status != 0)); then
  echo "valgrind: meson test failed (exit $status): $summary"
  exit 1
fi
echo "valgrind: no memcheck error; tests: $summary"
