#!/usr/bin/env bash
# Receives a camera with tcpframesrc and shows it in a window.  Without a
# display (no DISPLAY or WAYLAND_DISPLAY) it says so and sends the frames to
# fakesink instead, which still shows the connects and disconnects.
#
#   pipelines/receive-display.sh [RECEIVER OPTIONS]
#
# The receiver options (--host, --port, --mode, --framing, --caps,
# --timeout, --frames) are listed by --help.  For example:
#
#   pipelines/receive-display.sh --host 0.0.0.0 --port 5000
#   pipelines/receive-display.sh --port 5000 --framing jpeg
#   pipelines/receive-display.sh --mode client --host camera.local --port 5000
#
# Stop it with Ctrl-C, or kill (SIGTERM) / kill -INT its PID; with
# --frames N it stops by itself after N frames.
set -euo pipefail

# shellcheck source=pipelines/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

while (($#)); do
  if tf_receiver_option "$@"; then
    shift "$tf_shift"
    continue
  fi
  case $1 in
    -h | --help) tf_help; tf_receiver_help; exit 0 ;;
    *) tf_usage_error "unknown argument '$1'" ;;
  esac
done

tf_receiver_setup
tf_use_plugin
tf_display_setup
tf_need_elements "${tf_source_elements[@]}" "${tf_display_elements[@]}"

tf_receiver_banner
status=0
tf_launch "${tf_source[@]}" "${tf_display_sink[@]}" || status=$?
exit "$status"
