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
# Memcheck slows the code it runs by 20 to 50 times.  The cases whose
# timing bounds only hold at native speed, or whose races it widens, are
# listed, each with its reason, in TF_VALGRIND_SKIP below; they run natively
# (tests/run.sh) and under ASan (tests/sanitize.sh).  Every other case of
# those suites runs here.
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

builddir=build-valgrind
pipelines/build.sh "$builddir" -Dtests=enabled \
  >"$root/$builddir-build.log" 2>&1 || {
  cat "$root/$builddir-build.log" >&2
  echo "valgrind: build failed" >&2
  exit 1
}
rm -f "$root/$builddir-build.log"

logs=$root/$builddir/valgrind
rm -rf "$logs"
mkdir -p "$logs"

# The plugin registries the tests name, built once before them (by the
# uninstrumented gst-plugin-scanner), so no test scans plugins under
# valgrind, or several at once.
mapfile -t registries < <(meson introspect "$builddir" --tests | python3 -c '
import json, sys
print("\n".join(sorted({t["env"]["GST_REGISTRY"] for t in json.load(sys.stdin)
                        if "GST_REGISTRY" in t["env"]})))')
for registry in "${registries[@]}"; do
  rm -f "$registry"
  mkdir -p "$(dirname "$registry")"
  if ! GST_PLUGIN_PATH=$root/$builddir/gst-plugin GST_REGISTRY=$registry \
    gst-inspect-1.0 tcpframesrc >"$logs/registry.log" 2>&1; then
    cat "$logs/registry.log" >&2
    echo "valgrind: could not build $registry" >&2
    exit 1
  fi
done
rm -f "$logs/registry.log"
export GST_REGISTRY_UPDATE=no

# Cases with a timing bound that memcheck's slowdown breaks.  Every bound
# below is slack on top of an expected delay ("within timeout + 150 ms", "a
# push returns within 50 ms"); tf_test_scale_ms() (tests/tf-testpeer.c)
# scales such slack by TF_TEST_TIME_SCALE, which this script sets.  Once a
# file defines its slack constants through it (e.g. #define PUSH_MS
# tf_test_scale_ms (50)), its cases go from this list back to memcheck.
# They all run natively (tests/run.sh) and under ASan (tests/sanitize.sh).
TF_VALGRIND_SKIP=(
  # test_tcpframesink.c: push_quick() fails a push slower than PUSH_MS
  # (50 ms), seen at 58 ms; round_trip() pushes through it.
  test_sink_header_round_trip
  test_sink_raw_round_trip
  test_sink_length_formats
  test_sink_jpeg_round_trip
  test_sink_ipv6_loopback
  test_sink_server_mode_and_replacement
  test_sink_server_mode_to_tcpframesrc_client
  test_sink_newest_frame_wins_while_sending
  test_sink_resend_last_sends_newest_after_reconnect
  test_sink_drops_while_disconnected
  test_sink_stop_prompt_while_send_stalled
  test_sink_eos_lets_last_frame_out
  # ...and upstream gaps under frame_ms + GAP_SLACK_MS (80 ms), a drop
  # within send-timeout + SLACK_MS (seen 1071 ms for a 300 ms bound), a
  # give-up within 3 retry delays + SLACK_MS (seen 508 ms).
  test_sink_live_upstream_flows_while_receiver_vanishes
  test_sink_send_timeout_drops_stalled_receiver
  test_sink_max_retries_posts_error
  # test_client.c: gives up within 20 + 40 + LATE_MS (210 ms), counted from
  # before the element is even created; seen 264 to 296 ms.  Two connect
  # timeouts + 20 + 2 * LATE_MS (720 ms); seen 775 ms.
  test_client_max_retries_refused
  test_client_connect_timeout

  # Not timing bounds: races in the test that memcheck's slowdown widens
  # until they fail most runs.  To fix in the tests, then back here.
  # test_tcpframesrc.c: reads the accepted socket's options as soon as the
  # fd exists, before the element has set them (SO_KEEPALIVE seen 0).
  test_src_keepalive_socket_options
  # test_peers.c backlog_wait_message(): fails on B's first frame when it
  # drains it before it reads the bus, where "disconnected" already is.
  test_peers_new_camera_replaces_under_backlog

  # A bug in the element that memcheck's slowdown exposes: with framing=jpeg
  # an image already read into the framer (two images in one read) is not
  # delivered until more bytes arrive, if the next create() comes more than
  # HOT_PEER_POLL_INTERVAL_NS (1 ms) after the last poll.  It fails natively
  # too with a downstream that takes 10 ms per buffer.  Back here once
  # fixed in gst-plugin/gsttcpframereceiver.c.
  test_src_jpeg_images_and_garbage
)
export TF_TEST_TIME_SCALE=10

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
summary=$(sed -n '/^Ok:/,/^Timeout:/p' "$logs/meson-test.log" | tr -s ' ' | tr '\n' ' ')

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
failures=$(grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS) ' "$logs/meson-test.log" || true)
if [[ -n $failures ]]; then
  echo "---- failed tests (output: $(ls "$builddir"/meson-logs/valgrind*.txt)):"
  echo "$failures"
fi

if ((bad > 0)); then
  echo "valgrind: memcheck errors in $bad process(es) (above, and in $logs/); tests: $summary"
  exit 1
fi
if ((status != 0)); then
  echo "valgrind: meson test failed (exit $status): $summary"
  exit 1
fi
echo "valgrind: no memcheck error; tests: $summary"
