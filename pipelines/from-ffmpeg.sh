#!/usr/bin/env bash
# Receives what ffmpeg sends to tcp://, with the tcpframesrc framing that
# matches its output format:
#
#   rawvideo   ffmpeg -f rawvideo -pix_fmt gray    tcpframesrc framing=raw
#              caps=video/x-raw,format=GRAY8,width=W,height=H,framerate=F/1
#   mjpeg      ffmpeg -c:v mjpeg -f mjpeg          tcpframesrc framing=jpeg
#              ! jpegdec
#
#   pipelines/from-ffmpeg.sh rawvideo|mjpeg [--host HOST] [--port PORT]
#                           [--size WxH] [--fps N] [--frames N]
#                           [--input FILE]
#
#   --host, --port  where the receiver listens and ffmpeg sends to
#                   (default 127.0.0.1:5000, or $TF_HOST and $TF_PORT).
#   --size, --fps   what ffmpeg sends (default 640x480 at 30 fps).
#   --frames        send and receive N frames, then stop (default 0: until
#                   stopped).
#   --input         a video file for ffmpeg to send instead of its testsrc2
#                   pattern; it is scaled to --size and paced at --fps.
#
# The video is shown when there is a display, otherwise the frames go to
# fakesink (see receive-display.sh).  Raw video has no frame boundaries on
# the wire: the receiver counts bytes, so --size must be what ffmpeg sends.
#
# Stop it with Ctrl-C, or kill (SIGTERM) / kill -INT its PID: ffmpeg is
# stopped and the receiver gets an EOS.  With --frames N it stops by itself.
set -euo pipefail

# shellcheck source=pipelines/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

format=
size=640x480
fps=30
input=

while (($#)); do
  case $1 in
    rawvideo | mjpeg) format=$1; shift ;;
    --host) tf_need_arg "$@"; tf_rx_host=$2; shift 2 ;;
    --port) tf_need_arg "$@"; tf_rx_port=$2; shift 2 ;;
    --size) tf_need_arg "$@"; size=$2; shift 2 ;;
    --fps) tf_need_arg "$@"; fps=$2; shift 2 ;;
    --frames) tf_need_arg "$@"; tf_rx_frames=$2; shift 2 ;;
    --input) tf_need_arg "$@"; input=$2; shift 2 ;;
    -h | --help) tf_help; exit 0 ;;
    *) tf_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n $format ]] || tf_usage_error "say which format ffmpeg sends: rawvideo or mjpeg"
tf_parse_size --size "$size"
[[ $fps =~ ^[1-9][0-9]{0,2}$ ]] || tf_usage_error "--fps must be 1 to 999, not '$fps'"
[[ -z $input || -r $input ]] || tf_usage_error "--input: cannot read '$input'"

tf_rx_mode=server
if [[ $format == rawvideo ]]; then
  tf_rx_framing=raw
  tf_rx_caps=video/x-raw,format=GRAY8,width=$tf_width,height=$tf_height,framerate=$fps/1
  ffmpeg_output=(-pix_fmt gray -f rawvideo)
else
  tf_rx_framing=jpeg
  ffmpeg_output=(-c:v mjpeg -f mjpeg)
fi
tf_receiver_setup

tf_use_plugin
command -v ffmpeg >/dev/null || tf_die "ffmpeg is missing (Debian: ffmpeg)"
tf_display_setup
tf_need_elements "${tf_source_elements[@]}" "${tf_display_elements[@]}"
if tf_is_listening "$tf_rx_port"; then
  tf_die "port $tf_rx_port is already in use; pick another with --port"
fi

# -re paces a file or pattern at its own rate, like a camera would.
if [[ -n $input ]]; then
  ffmpeg_input=(-re -i "$input" -vf "scale=$tf_width:$tf_height,fps=$fps")
else
  ffmpeg_input=(-re -f lavfi -i "testsrc2=size=${tf_width}x$tf_height:rate=$fps")
fi
ffmpeg_cmd=(ffmpeg -nostdin -hide_banner -loglevel error "${ffmpeg_input[@]}" -an)
if ((tf_rx_frames > 0)); then
  ffmpeg_cmd+=(-frames:v "$tf_rx_frames")
fi
ffmpeg_cmd+=("${ffmpeg_output[@]}" "tcp://$tf_rx_host:$tf_rx_port")

ffmpeg_pid=
# ffmpeg connects once and does not retry, so it starts only once the
# receiver listens.  Stopped however this script ends.
# shellcheck disable=SC2317  # only the EXIT trap calls it
cleanup() {
  if [[ -n $ffmpeg_pid ]] && kill -0 "$ffmpeg_pid" 2>/dev/null; then
    kill -TERM "$ffmpeg_pid" 2>/dev/null || true
    wait "$ffmpeg_pid" || true
  fi
}
trap cleanup EXIT
(
  if ! tf_wait_listening "$tf_rx_port" 10; then
    tf_die "the receiver did not start listening on port $tf_rx_port"
  fi
  tf_say "running: ${ffmpeg_cmd[*]}"
  exec "${ffmpeg_cmd[@]}"
) &
ffmpeg_pid=$!

tf_receiver_banner
status=0
tf_launch "${tf_source[@]}" "${tf_display_sink[@]}" || status=$?
exit "$status"
