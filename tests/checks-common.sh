# shellcheck shell=bash disable=SC2154
# What tests/sanitize.sh and tests/valgrind.sh share: an instrumented build
# of its own, the plugin registries built before any test runs, and the
# report of the cases that failed.  Sourced, with $root set to the top of
# the checkout; each function takes the check's name ("sanitize",
# "valgrind") for its messages.

# tf_check_build NAME BUILDDIR [MESON_OPTION...]
# Builds quietly; the build's output is shown only when it fails.
tf_check_build() {
  local name=$1 builddir=$2
  shift 2
  local log=$root/$builddir-build.log
  if ! pipelines/build.sh "$builddir" "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "$name: build failed" >&2
    return 1
  fi
  rm -f "$log"
}

# tf_check_registries NAME BUILDDIR LOGDIR [VAR=VALUE...]
# Builds anew every plugin registry the tests name (GST_REGISTRY in their
# environment), with gst-inspect-1.0 run under the given environment, so
# that no test scans plugins itself: the tests then run with
# GST_REGISTRY_UPDATE=no.
tf_check_registries() {
  local name=$1 builddir=$2 logs=$3 registry
  shift 3
  local registries
  mapfile -t registries < <(meson introspect "$builddir" --tests | python3 -c '
import json, sys
print("\n".join(sorted({t["env"]["GST_REGISTRY"] for t in json.load(sys.stdin)
                        if "GST_REGISTRY" in t["env"]})))')
  for registry in "${registries[@]}"; do
    rm -f "$registry"
    mkdir -p "$(dirname "$registry")"
    if ! env "$@" GST_PLUGIN_PATH="$root/$builddir/gst-plugin" \
      GST_REGISTRY="$registry" gst-inspect-1.0 tcpframesrc \
      >"$logs/registry.log" 2>&1; then
      cat "$logs/registry.log" >&2
      echo "$name: could not build $registry" >&2
      return 1
    fi
  done
  rm -f "$logs/registry.log"
}

# tf_check_summary MESON_LOG
# meson's closing counts (Ok: ... Timeout: ...) on one line.
tf_check_summary() {
  sed -n '/^Ok:/,/^Timeout:/p' "$1" | tr -s ' ' | tr '\n' ' '
}

# tf_check_failed_cases MESON_LOG TEST_LOG
# The cases that failed, if any, and why: gst-check's assertion lines
# (file:line:F:...) and the criticals that fail a case.
tf_check_failed_cases() {
  local failures
  failures=$(grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS) ' "$1" || true)
  if [[ -z $failures ]]; then
    return 0
  fi
  echo "---- failed tests (output: $2):"
  echo "$failures"
  grep -h -E ':[0-9]+:[FE]:|CRITICAL|Unexpected critical' "$2" 2>/dev/null |
    head -n 20 || true
}
