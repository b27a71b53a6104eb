#!/usr/bin/env bash
# A camera simulator: a bouncing ball, 640x480 GRAY8 at 30 fps, sent by
# tcpframesink the way a network camera would send it.
#
#   pipelines/camera-sim.sh [--host HOST] [--port PORT] [--mode client|server]
#                           [--framing header|raw|length|jpeg] [--size WxH]
#                           [--fps N] [--frames N]
#
#   --host      mode client: the receiver to connect to; mode server: the
#               address to listen on (0.0.0.0 for every interface).
#               Default 127.0.0.1, or $TF_HOST.
#   --port      default 5000, or $TF_PORT.
#   --mode      client (default, or $TF_MODE): connect to a listening
#               tcpframesrc and reconnect whenever it goes away.  server:
#               listen for a tcpframesrc mode=client (client-mode.sh).
#   --framing   header (default, or $TF_FRAMING): caps travel with the
#               frames.  raw, length: bare GRAY8 frames, so the receiver
#               must be told the caps.  jpeg: JPEG images (jpegenc).
#   --size      default 640x480.   --fps  default 30.
#   --frames    send N frames, then end (default 0: until stopped).
#
# Stop it with Ctrl-C, or kill (SIGTERM) / kill -INT its PID: the pipeline
# gets an EOS, so tcpframesink sends the frames it holds before closing.
#
# Receive it with, for example:
#   pipelines/receive-display.sh --port 5000                  (header)
#   pipelines/receive-display.sh --port 5000 --framing jpeg
#   pipelines/receive-display.sh --port 5000 --framing raw --size 640x480
set -euo pipefail

# shellcheck source=pipelines/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

host=${TF_HOST:-127.0.0.1}
port=${TF_PORT:-5000}
mode=${TF_MODE:-client}
framing=${TF_FRAMING:-header}
size=640x480
fps=30
frames=0

while (($#)); do
  case $1 in
    --host) tf_need_arg "$@"; host=$2; shift 2 ;;
    --port) tf_need_arg "$@"; port=$2; shift 2 ;;
    --mode) tf_need_arg "$@"; mode=$2; shift 2 ;;
    --framing) tf_need_arg "$@"; framing=$2; shift 2 ;;
    --size) tf_need_arg "$@"; size=$2; shift 2 ;;
    --fps) tf_need_arg "$@"; fps=$2; shift 2 ;;
    --frames) tf_need_arg "$@"; frames=$2; shift 2 ;;
    -h | --help) tf_help; exit 0 ;;
    *) tf_usage_error "unknown argument '$1'" ;;
  esac
done

[[ -n $host ]] || tf_usage_error "--host must not be empty"
case $mode in
  client | server) ;;
  *) tf_usage_error "--mode must be client or server, not '$mode'" ;;
esac
# In server mode tcpframesink could pick a free port for 0, but
# gst-launch has no way to say which: a useful server needs a fixed one.
tf_check_port --port "$port"
case $framing in
  header | raw | length | jpeg) ;;
  *) tf_usage_error "--framing must be header, raw, length or jpeg, not '$framing'" ;;
esac
tf_parse_size --size "$size"
[[ $fps =~ ^[1-9][0-9]{0,2}$ ]] || tf_usage_error "--fps must be 1 to 999, not '$fps'"
tf_check_count --frames "$frames"

tf_use_plugin
elements=(videotestsrc tcpframesink)
encode=()
if [[ $framing == jpeg ]]; then
  elements+=(jpegenc)
  encode=(jpegenc '!')
fi
tf_need_elements "${elements[@]}"

caps="video/x-raw,format=GRAY8,width=$tf_width,height=$tf_height,framerate=$fps/1"
source_props=(is-live=true pattern=ball)
if ((frames > 0)); then
  source_props+=(num-buffers="$frames")
fi

if [[ $mode == client ]]; then
  tf_say "sending $caps ($framing framing) to $host:$port"
else
  tf_say "serving $caps ($framing framing) on $host:$port"
fi
status=0
tf_launch videotestsrc "${source_props[@]}" ! "$caps" ! "${encode[@]}" \
  tcpframesink mode="$mode" host="$host" port="$port" framing="$framing" ||
  status=$?
exit "$status"
