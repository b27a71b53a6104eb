#!/usr/bin/env bash
# Makes sure the Debian packages the project needs are installed.
#
#   pipelines/ensure-deps.sh [--build] [--test] [--demo] [--display]
#                            [--fuzz] [--check] [PACKAGE...]
#
# --build is what building and testing need, --test adds what some tests
# drive tcpframesrc with, --demo adds what the demo pipeline needs,
# --display what showing its video needs, --fuzz what the libFuzzer
# targets (tests/fuzz/run.sh) need and --check what the memory checks
# (tests/sanitize.sh, tests/valgrind.sh) need.  Missing packages are installed
# when running as root (as CI does, on a fresh Debian 12), otherwise the
# exact command to run is printed and the script fails.  Sourcing this file
# only defines the package sets and tf_ensure_deps, so other scripts can
# share them.
#
# TF_SKIP_DEPS=1 skips the check, for machines whose packages are managed
# some other way.

set -euo pipefail

# Every package is a direct need, not a recommend of another one, because
# apt-get runs with --no-install-recommends:
#   meson, ninja-build, pkg-config, gcc, libc6-dev: configure and compile;
#   libglib2.0-dev: glib, gio and glib-mkenums;
#   libgstreamer1.0-dev: gstreamer, gstreamer-base and gstreamer-check;
#   libgstreamer-plugins-base1.0-dev: gstreamer-video;
#   gstreamer1.0-tools, -plugins-base, -plugins-good: the elements the
#     tests link tcpframesrc to, and gst-inspect/gst-launch;
#   python3: meson's test list helper, the result count of tests/run.sh and
#     the tests' tiny Python camera.
TF_BUILD_PACKAGES=(
  meson ninja-build pkg-config gcc libc6-dev libglib2.0-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  python3
)

# What the whole suite needs beyond the build:
#   ffmpeg: the interop suite's real sender, and ffprobe for recordings;
#   -plugins-ugly (x264enc), -plugins-bad (h264parse), -libav (avdec_h264):
#     the pipelines suite records through a camera reboot and decodes it;
#   python3-gi, gir1.2-gstreamer-1.0: the Python embedding example;
#   nftables: the fault tests drop packets inside their own network
#     namespace.
TF_TEST_PACKAGES=(
  "${TF_BUILD_PACKAGES[@]}"
  ffmpeg
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  python3-gi gir1.2-gstreamer-1.0
  nftables
)

# The demo encodes to H.264 in MP4: x264enc is in -ugly, h264parse in -bad,
# mp4mux and qtdemux in -good, and avdec_h264 (to count the frames of the
# result) in -libav.  ss from iproute2 checks that the port is free.
TF_DEMO_PACKAGES=(
  "${TF_BUILD_PACKAGES[@]}"
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  iproute2
)

# autovideosink's X and Wayland sinks; only worth having with a display.
TF_DISPLAY_PACKAGES=(gstreamer1.0-x)

# The libFuzzer targets are built with clang -fsanitize=fuzzer,address,
# undefined.  Those runtimes are in libclang-rt-dev (libclang-rt-14-dev on
# Debian 12), which clang brings only as a recommend (of
# libclang-common-14-dev), so it must be named here.
TF_FUZZ_PACKAGES=(
  "${TF_BUILD_PACKAGES[@]}"
  clang libclang-rt-dev
)

# The memory checks run the whole test suite, so they need what --test
# needs, plus:
#   gcc: its ASan, LSan and UBSan runtimes (libasan8, liblsan0, libubsan1)
#     come with it, through gcc-12's dependency on libgcc-12-dev;
#   valgrind: memcheck, for tests/valgrind.sh;
#   libc6-dbg: the dynamic loader's symbols.  valgrind needs them to start
#     (and depends on it), and tests/lsan.supp matches a loader frame
#     (_dl_init), which only has a name with them.
TF_CHECK_PACKAGES=(
  "${TF_TEST_PACKAGES[@]}"
  gcc valgrind libc6-dbg
)

# Prints the packages among the arguments that are not fully installed.
tf_missing_packages() {
  local pkg status
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ $status != "install ok installed" ]]; then
      echo "$pkg"
    fi
  done
}

tf_ensure_deps() {
  local -a wanted=() missing=()
  local arg
  for arg in "$@"; do
    case $arg in
      --build) wanted+=("${TF_BUILD_PACKAGES[@]}") ;;
      --test) wanted+=("${TF_TEST_PACKAGES[@]}") ;;
      --demo) wanted+=("${TF_DEMO_PACKAGES[@]}") ;;
      --display) wanted+=("${TF_DISPLAY_PACKAGES[@]}") ;;
      --fuzz) wanted+=("${TF_FUZZ_PACKAGES[@]}") ;;
      --check) wanted+=("${TF_CHECK_PACKAGES[@]}") ;;
      -*)
        echo "ensure-deps: unknown option $arg" >&2
        return 2
        ;;
      *) wanted+=("$arg") ;;
    esac
  done
  if [[ ${TF_SKIP_DEPS:-0} == 1 ]]; then
    return 0
  fi
  if ! command -v dpkg-query >/dev/null; then
    echo "ensure-deps: not a Debian system, not checking: ${wanted[*]}" >&2
    return 0
  fi

  mapfile -t missing < <(tf_missing_packages "${wanted[@]}")
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-deps: missing packages: ${missing[*]}" >&2
    echo "ensure-deps: install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    return 1
  fi
  echo "ensure-deps: installing ${missing[*]}" >&2
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  tf_ensure_deps "$@"
fi
