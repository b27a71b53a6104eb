#!/usr/bin/env bash
# Installs what the build needs, builds, runs every meson test and closes
# with the one line CI reads: "N passed, N failed" (", N skipped" if any).
#
#   tests/run.sh [MESON_TEST_ARG...]     e.g. tests/run.sh --suite framer
#
# Exits non-zero if a test failed or none ran.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# shellcheck source=pipelines/ensure-deps.sh disable=SC1091
source pipelines/ensure-deps.sh
tf_ensure_deps --test
pipelines/build.sh build

testlog=build/meson-logs/testlog.json
# A log from an earlier run must never be counted as this run's result.
rm -f "$testlog"

meson_status=0
# Everything was just compiled; a second rebuild check only costs time.
meson test -C build --no-rebuild --print-errorlogs "$@" || meson_status=$?

python3 - "$testlog" "$meson_status" <<'PY'
import json
import os
import sys

path, meson_status = sys.argv[1], int(sys.argv[2])
passed = failed = skipped = unreadable = 0
if os.path.exists(path):
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            if not line.strip():
                continue
            try:
                result = json.loads(line).get("result")
            except (ValueError, AttributeError):
                # Seen when another meson test rewrote the log meanwhile;
                # a result that cannot be read is not a pass.
                unreadable += 1
                result = None
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                # FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS, and INTERRUPT or
                # anything newer: none of them is a pass.
                failed += 1

status = 0
if unreadable:
    print(f"tests/run.sh: {unreadable} unreadable line(s) in {path}")
if failed:
    status = 1
elif passed == 0:
    print("tests/run.sh: no test ran")
    status = 1
elif meson_status != 0:
    # meson failed without a failed test in its log: say so, or a green
    # count would hide it.
    print(f"tests/run.sh: meson test exited with {meson_status}")
    status = 1
summary = f"{passed} passed, {failed} failed"
if skipped:
    summary += f", {skipped} skipped"
sys.stdout.flush()
print(summary)
sys.exit(status)
PY
