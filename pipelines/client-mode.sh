#!/usr/bin/env bash
# tcpframesrc in client mode: the camera listens and the receiver connects
# to it (and reconnects with backoff whenever the camera goes away).  For
# cameras and boxes that serve their stream instead of sending it.
#
#   pipelines/client-mode.sh [--no-sim] [--size WxH] [RECEIVER OPTIONS]
#
# It starts the camera simulator as a server (camera-sim.sh --mode server,
# i.e. tcpframesink mode=server) on --host:--port, then receive-display.sh
# --mode client against it.  --no-sim skips the simulator: --host and
# --port are then a real camera's.  --size is the simulator's frame size
# (default 640x480), also used for the caps of --framing raw or length.
# The receiver options (--host, --port, --framing, --caps, --timeout,
# --frames; not --mode) are listed by --help.
#
# Stop it with Ctrl-C, or kill (SIGTERM) / kill -INT its PID: both
# pipelines get an EOS.  With --frames N it stops by itself after N frames.
set -euo pipefail

# shellcheck source=pipelines/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
here=$(dirname "${BASH_SOURCE[0]}")

sim=1
size=640x480
caps_given=0

while (($#)); do
  case $1 in
    --mode) tf_usage_error "--mode is always client here" ;;
    --caps) caps_given=1 ;;
  esac
  if tf_receiver_option "$@"; then
    shift "$tf_shift"
    continue
  fi
  case $1 in
    --no-sim) sim=0; shift ;;
    --size) tf_need_arg "$@"; size=$2; shift 2 ;;
    -h | --help) tf_help; tf_receiver_help; exit 0 ;;
    *) tf_usage_error "unknown argument '$1'" ;;
  esac
done
tf_rx_mode=client
tf_parse_size --size "$size"
if ((!caps_given)); then
  tf_rx_caps=video/x-raw,format=GRAY8,width=$tf_width,height=$tf_height,framerate=30/1
fi
tf_receiver_setup

sim_pid=
rx_pid=
# Stops the simulator however this script ends.
# shellcheck disable=SC2317  # only the EXIT trap calls it
cleanup() {
  if [[ -n $sim_pid ]] && kill -0 "$sim_pid" 2>/dev/null; then
    kill -TERM "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" || true
  fi
}
trap cleanup EXIT

if ((sim)); then
  tf_use_plugin
  if tf_is_listening "$tf_rx_port"; then
    tf_die "port $tf_rx_port is already in use; pick another with --port"
  fi
  "$here/camera-sim.sh" --mode server --host "$tf_rx_host" \
    --port "$tf_rx_port" --framing "$tf_rx_framing" --size "$size" &
  sim_pid=$!
  # Not needed by tcpframesrc, which retries, but a simulator that could
  # not start is better reported than retried forever.
  if ! tf_wait_listening "$tf_rx_port" 10 || ! kill -0 "$sim_pid" 2>/dev/null; then
    tf_die "the camera simulator did not start listening on port $tf_rx_port"
  fi
fi

rx_args=(--mode client --host "$tf_rx_host" --port "$tf_rx_port"
  --framing "$tf_rx_framing" --caps "$tf_rx_caps" --timeout "$tf_rx_timeout"
  --frames "$tf_rx_frames")
"$here/receive-display.sh" "${rx_args[@]}" &
rx_pid=$!
# Background jobs of a script ignore SIGINT, so the stop request goes on
# as SIGTERM, which the receiver turns into its EOS.
trap 'kill -TERM "$rx_pid" 2>/dev/null || true' INT TERM HUP
status=0
tf_wait_for "$rx_pid" || status=$?
exit "$status"
