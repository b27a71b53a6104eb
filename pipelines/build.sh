#!/usr/bin/env bash
# Configures and compiles the project; shared by tests/run.sh and the demo.
#
#   pipelines/build.sh [BUILDDIR [MESON_SETUP_OPTION...]]
#
# BUILDDIR (default build) is relative to the repository root.  An existing
# build directory is reconfigured rather than set up anew, so repeated runs
# only rebuild what changed; options given here apply either way.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=pipelines/ensure-deps.sh disable=SC1091
source pipelines/ensure-deps.sh
tf_ensure_deps --build

builddir=${1:-build}
shift || true

if [[ -f $builddir/meson-private/coredata.dat ]]; then
  # A build directory left by another meson version cannot be reconfigured;
  # wiping it is the only way forward and loses nothing but build time.
  if ! meson setup --reconfigure "$builddir" "$@"; then
    echo "build: reconfiguring $builddir failed, setting it up anew" >&2
    meson setup --wipe "$builddir" "$@"
  fi
else
  meson setup "$builddir" "$@"
fi
meson compile -C "$builddir"
