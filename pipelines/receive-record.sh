#!/usr/bin/env bash
# Receives a camera with tcpframesrc and records it to one H.264 MP4 file,
# through camera reboots, reconnects and silences, until stopped.
#
#   pipelines/receive-record.sh [--out FILE] [--size WxH] [--fps N]
#                               [--bitrate KBPS] [--preset NAME]
#                               [--fragment-ms MS] [RECEIVER OPTIONS]
#
#   --out          the file (default tcpframe-DATE-TIME.mp4 here).
#   --size         the recording's size, default 640x480.  Every frame is
#                  scaled to it, with black borders if its aspect ratio
#                  differs, so a camera that comes back at another
#                  resolution continues the same file.
#   --fps          the frame rate the file declares, default 30.  Frames
#                  keep their arrival times whatever it is: a camera that
#                  was away for 5 s shows its last frame for 5 s.
#   --bitrate      H.264 kbit/s, default 2048.
#   --preset       x264 speed preset, default veryfast.
#   --fragment-ms  write a fragmented MP4, one fragment every MS ms
#                  (default 0: a plain MP4).  A plain MP4 is playable only
#                  once it is finalized; a fragmented one survives a crash
#                  or power loss up to its last fragment, but some older
#                  players do not seek in it.
#
# The receiver options (--host, --port, --mode, --framing, --caps,
# --timeout, --frames) are listed by --help.
#
# Stop it with Ctrl-C, or kill (SIGTERM, SIGHUP) / kill -INT its PID: the
# pipeline gets an EOS and mp4mux writes the index that makes the file
# playable.  With --frames N it stops by itself after N frames.  kill -9
# on this script still finalizes the file (a helper notices and sends the
# EOS); kill -9 on gst-launch itself, or a power cut, leaves a plain MP4
# unplayable: use --fragment-ms where that can happen.  Under systemd, use
# KillMode=mixed so only this script gets the SIGTERM.
#
# Why the file stays one clean stream: x264enc is configured once and never
# again.  Whatever the cameras send is converted and scaled to the same
# caps (I420, --size, square pixels, BT.601), and capssetter fixes the
# declared frame rate, so a reboot with other caps changes nothing
# downstream of the scaler.  (An encoder restarted on new caps changes the
# stream's SPS/PPS while the MP4 header keeps the first ones: after a
# resolution change GStreamer still plays such a file, but ffmpeg and the
# players built on it fail to decode the frames after the change.)  Frames
# are never dropped or duplicated, so the file holds exactly the frames
# tcpframesrc received.
set -euo pipefail

# shellcheck source=pipelines/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out=
size=640x480
fps=30
bitrate=2048
preset=veryfast
fragment_ms=0

while (($#)); do
  if tf_receiver_option "$@"; then
    shift "$tf_shift"
    continue
  fi
  case $1 in
    --out) tf_need_arg "$@"; out=$2; shift 2 ;;
    --size) tf_need_arg "$@"; size=$2; shift 2 ;;
    --fps) tf_need_arg "$@"; fps=$2; shift 2 ;;
    --bitrate) tf_need_arg "$@"; bitrate=$2; shift 2 ;;
    --preset) tf_need_arg "$@"; preset=$2; shift 2 ;;
    --fragment-ms) tf_need_arg "$@"; fragment_ms=$2; shift 2 ;;
    -h | --help) tf_help; tf_receiver_help; exit 0 ;;
    *) tf_usage_error "unknown argument '$1'" ;;
  esac
done

tf_receiver_setup
tf_parse_size --size "$size"
# x264 wants even sizes for 4:2:0.
((tf_width % 2 == 0 && tf_height % 2 == 0)) ||
  tf_usage_error "--size must have an even width and height, not '$size'"
[[ $fps =~ ^[1-9][0-9]{0,2}$ ]] || tf_usage_error "--fps must be 1 to 999, not '$fps'"
[[ $bitrate =~ ^[1-9][0-9]{0,5}$ ]] || tf_usage_error "--bitrate must be 1 to 999999 kbit/s, not '$bitrate'"
case $preset in
  ultrafast | superfast | veryfast | faster | fast | medium | slow | slower | veryslow) ;;
  *) tf_usage_error "--preset must be an x264 preset (ultrafast ... veryslow), not '$preset'" ;;
esac
tf_check_count --fragment-ms "$fragment_ms"
if [[ -z $out ]]; then
  out=tcpframe-$(date +%Y%m%d-%H%M%S).mp4
fi
[[ -d $(dirname "$out") ]] || tf_usage_error "--out: folder $(dirname "$out") does not exist"

tf_use_plugin
tf_need_elements "${tf_source_elements[@]}" videoconvert videoscale capssetter \
  x264enc h264parse mp4mux filesink

fixed="video/x-raw,format=I420,width=$tf_width,height=$tf_height"
fixed+=",pixel-aspect-ratio=1/1,colorimetry=bt601,chroma-site=mpeg2"
fixed+=",interlace-mode=progressive,multiview-mode=mono"
pipeline=("${tf_source[@]}" videoconvert ! videoscale add-borders=true
  ! "$fixed" ! capssetter caps="video/x-raw,framerate=$fps/1"
  ! x264enc tune=zerolatency speed-preset="$preset" bitrate="$bitrate"
  key-int-max=$((fps * 2)) ! h264parse
  ! mp4mux fragment-duration="$fragment_ms" ! filesink location="$out")
if ((fragment_ms > 0)); then
  # A fragment is only safe once it is in the file, not in a stdio buffer.
  pipeline+=(buffer-mode=unbuffered)
fi

tf_receiver_banner
tf_say "recording to $out at ${tf_width}x$tf_height"
status=0
tf_launch "${pipeline[@]}" || status=$?

if [[ -s $out ]]; then
  tf_say "wrote $out ($(stat -c %s "$out") bytes)"
else
  tf_say "nothing was written to $out"
fi
exit "$status"
