#!/usr/bin/env bash
# Shared by the example pipelines (camera-sim.sh, receive-display.sh,
# receive-record.sh, client-mode.sh, from-ffmpeg.sh); sourcing it only
# defines TF_ROOT, TF_COMMON and functions.
#
# tf_launch is the part that matters: it runs a gst-launch-1.0 pipeline so
# that every way of stopping the script (Ctrl-C, kill, kill -INT, kill %1,
# the script itself being killed) ends the pipeline with one EOS, which is
# what makes mp4mux write a playable file and tcpframesink send its last
# frames.  It also turns the elements' bus messages into short lines:
#
#   tcpframesrc: connected 127.0.0.1:40112
#   tcpframesrc: disconnected 127.0.0.1:40112 reason=timeout frames=90
#
# Environment: GST_PLUGIN_PATH, if set, is where the plugin is found;
# otherwise build/gst-plugin is used when it holds a build.  TF_STOP_TIMEOUT
# (default 15) is how many seconds a stopping pipeline gets to finish
# before it is killed.

# Many variables here are set for the scripts that source this file.
# shellcheck disable=SC2034
TF_COMMON=$(realpath "${BASH_SOURCE[0]}")
TF_ROOT=$(dirname "$(dirname "$TF_COMMON")")
tf_name=${0##*/}
tf_name=${tf_name%.sh}

tf_say() {
  echo "$tf_name: $*"
}

tf_die() {
  echo "$tf_name: error: $*" >&2
  exit 1
}

tf_usage_error() {
  echo "$tf_name: $*" >&2
  echo "Run '$0 --help' for the options." >&2
  exit 2
}

# Prints the calling script's header comment, which is its help.
tf_help() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

# For option parsing: fails unless the option in $1 is followed by a value.
tf_need_arg() {
  (($# >= 2)) || tf_usage_error "$1 needs a value"
}

tf_check_port() {
  local what=$1 value=$2 min=${3:-1}
  # No leading zeros: gst-launch would read 0500 as octal.
  if ! [[ $value =~ ^(0|[1-9][0-9]{0,4})$ ]] || ((value < min || value > 65535)); then
    tf_usage_error "$what must be a port number ($min to 65535), not '$value'"
  fi
}

tf_check_count() {
  local what=$1 value=$2
  if ! [[ $value =~ ^(0|[1-9][0-9]{0,8})$ ]]; then
    tf_usage_error "$what must be a whole number below 10^9, not '$value'"
  fi
}

# Splits WxH into tf_width and tf_height.
tf_parse_size() {
  if ! [[ $2 =~ ^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$ ]]; then
    tf_usage_error "$1 must be WIDTHxHEIGHT, as in 640x480, not '$2'"
  fi
  tf_width=${BASH_REMATCH[1]}
  tf_height=${BASH_REMATCH[2]}
}

tf_have_display() {
  [[ -n ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]]
}

# Uses the plugin of this checkout's build unless GST_PLUGIN_PATH says
# otherwise, and fails with what to do when it is not found.
tf_use_plugin() {
  if [[ -z ${GST_PLUGIN_PATH:-} && -e $TF_ROOT/build/gst-plugin/libgsttcpframe.so ]]; then
    export GST_PLUGIN_PATH=$TF_ROOT/build/gst-plugin
  fi
  command -v gst-launch-1.0 >/dev/null ||
    tf_die "gst-launch-1.0 is missing (Debian: gstreamer1.0-tools)"
}

# Debian package of each element the scripts use, for the error message.
tf_package_of() {
  case $1 in
    tcpframesrc | tcpframesink) echo "this project's plugin: run pipelines/build.sh, or point GST_PLUGIN_PATH at the folder holding libgsttcpframe.so" ;;
    x264enc) echo "gstreamer1.0-plugins-ugly" ;;
    h264parse) echo "gstreamer1.0-plugins-bad" ;;
    avdec_h264) echo "gstreamer1.0-libav" ;;
    videotestsrc | videoconvert | videoscale) echo "gstreamer1.0-plugins-base" ;;
    xvimagesink | ximagesink) echo "gstreamer1.0-x" ;;
    *) echo "gstreamer1.0-plugins-good" ;;
  esac
}

# Fails naming every missing element and where to get it; a pipeline that
# cannot be built would only say "no element x264enc".
tf_need_elements() {
  local element missing=0
  for element in "$@"; do
    # Without --atleast-version, --exists also wants the element's plugin
    # to be as new as GStreamer itself, which ours (0.x) is not.
    if ! gst-inspect-1.0 --exists --atleast-version=0.0 "$element"; then
      echo "$tf_name: error: GStreamer element $element is missing ($(tf_package_of "$element"))" >&2
      missing=1
    fi
  done
  ((missing == 0)) || exit 1
}

# Whether something listens on TCP port $1, on any address.  Reads /proc
# rather than connecting, since a probe connection would be a peer to
# tcpframesrc.
tf_is_listening() {
  local hex
  hex=$(printf ':%04X' "$1")
  awk -v port="$hex" '$4 == "0A" && substr($2, length($2) - 4) == port { found = 1 }
    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Waits up to $2 seconds (default 10) for port $1 to be listened on.
tf_wait_listening() {
  local port=$1 tries=$((${2:-10} * 10))
  while ((tries-- > 0)); do
    tf_is_listening "$port" && return 0
    sleep 0.1
  done
  return 1
}

# Prints the value of field $2 in the serialized GstStructure $1.
tf_field() {
  local re='[ ,]'"$2"'=\([a-z0-9]+\)("([^"\]|\\.)*"|[^,;]*)' value
  [[ $1 =~ $re ]] || return 0
  value=${BASH_REMATCH[1]}
  if [[ $value == \"*\" ]]; then
    value=${value:1:-1}
    value=${value//\\/}
  fi
  printf '%s' "$value"
}

# Turns gst-launch -m's lines for tcpframesrc and tcpframesink messages into
# one short line each and drops its other "Got message" lines (state
# changes, QoS, ...).  Everything else passes unchanged.  Plain bash, not
# awk: mawk reads a pipe a block at a time, which would hold lines back.
tf_messages() {
  local line element event body address re
  re='^Got message #[0-9]+ from element .* \(element\): (tcpframe(src|sink))-([a-z]+),(.*)$'
  while IFS= read -r line; do
    if [[ $line =~ $re ]]; then
      element=${BASH_REMATCH[1]}
      event=${BASH_REMATCH[3]}
      body=" ${BASH_REMATCH[4]}"
      address=$(tf_field "$body" address)
      [[ $address != *:* ]] || address="[$address]"
      line="$element: $event $address:$(tf_field "$body" port)"
      if [[ $event != connected ]]; then
        line+=" reason=$(tf_field "$body" reason)"
      fi
      if [[ $event == disconnected ]]; then
        line+=" frames=$(tf_field "$body" frames)"
      fi
      if [[ $body == *" error="* ]]; then
        line+=" error=\"$(tf_field "$body" error)\""
      fi
    elif [[ $line == "Got message #"* ]]; then
      continue
    fi
    printf '%s\n' "$line"
  done
}

# Runs in a session of its own (see tf_launch): starts the command, turns
# the first stop request into one SIGINT, and stops the command as well
# when the script that started it ($1) is gone, e.g. killed with -9.
tf_keeper() {
  local parent=$1
  shift
  tf_keeper_child=
  tf_keeper_stop_at=0
  trap 'tf_keeper_stop' INT TERM HUP
  "$@" &
  tf_keeper_child=$!
  while kill -0 "$tf_keeper_child" 2>/dev/null; do
    if ((tf_keeper_stop_at == 0)) && ! kill -0 "$parent" 2>/dev/null; then
      tf_keeper_stop
    fi
    if ((tf_keeper_stop_at > 0 && SECONDS - tf_keeper_stop_at > ${TF_STOP_TIMEOUT:-15})); then
      echo "$tf_name: error: still running ${TF_STOP_TIMEOUT:-15} s after the stop request, killing it" >&2
      kill -KILL "$tf_keeper_child" 2>/dev/null || true
    fi
    sleep 0.2
  done
  wait "$tf_keeper_child"
}

tf_keeper_stop() {
  # A second SIGINT to gst-launch while it waits for EOS would abort it
  # and leave an MP4 without its index: only the first request counts.
  if ((tf_keeper_stop_at == 0)); then
    tf_keeper_stop_at=$SECONDS
    ((tf_keeper_stop_at > 0)) || tf_keeper_stop_at=1
    kill -INT "$tf_keeper_child" 2>/dev/null || true
  fi
}

tf_request_stop() {
  if ((tf_stop_requests++ == 0)); then
    tf_say "stopping: sending EOS so the stream ends cleanly"
  else
    tf_say "already stopping, waiting for the end of stream"
  fi
  kill -TERM "$tf_keeper_pid" 2>/dev/null || true
}

# tf_wait_for PID: waits until the background job PID has ended and returns
# its exit status.  wait returns early whenever a trapped signal arrives;
# only the job's own end counts.
tf_wait_for() {
  local status
  while :; do
    status=0
    wait "$1" || status=$?
    kill -0 "$1" 2>/dev/null || break
  done
  status=0
  wait "$1" || status=$?
  return "$status"
}

# tf_launch ELEMENT-OR-PROPERTY...: runs gst-launch-1.0 -e -m with that
# pipeline until it ends or is asked to stop, and returns its exit status.
#
# gst-launch runs in a session of its own, under tf_keeper, so that signals
# sent to the script's process group (Ctrl-C in a terminal, kill %1) reach
# only this script, which passes exactly one stop request on.  The message
# filter ignores those signals: it must outlive gst-launch, whose writes to
# a closed pipe would kill it in the middle of finalizing.  stdbuf makes
# gst-launch write each line as it comes, not a pipe buffer at a time.
tf_launch() {
  local status msg_fd msg_pid
  tf_stop_requests=0
  exec {msg_fd}> >(trap '' INT TERM HUP && tf_messages)
  msg_pid=$!
  # shellcheck disable=SC2016  # expanded by the keeper's shell
  setsid bash -c 'set -euo pipefail; source "$1"; tf_name=$2; shift 2; tf_keeper "$@"' \
    tf-keeper "$TF_COMMON" "$tf_name" "$$" \
    stdbuf -oL gst-launch-1.0 -e -m "$@" >&"$msg_fd" &
  tf_keeper_pid=$!
  exec {msg_fd}>&-
  trap 'tf_request_stop' INT TERM HUP
  status=0
  tf_wait_for "$tf_keeper_pid" || status=$?
  trap - INT TERM HUP
  wait "$msg_pid" || true
  return "$status"
}

# ---- the receiving side, shared by receive-display.sh, receive-record.sh,
# client-mode.sh and from-ffmpeg.sh ----

# shellcheck disable=SC2016  # the $ names are meant literally
TF_RECEIVER_HELP='  --host      mode server: the address to listen on (0.0.0.0 for every
              interface); mode client: the camera to connect to.
              Default 127.0.0.1, or $TF_HOST.
  --port      default 5000, or $TF_PORT.
  --mode      server (default, or $TF_MODE): cameras connect to us.
              client: connect to a camera that listens (tcpframesink
              mode=server), and reconnect whenever it goes away.
  --framing   header (default, or $TF_FRAMING), raw, length or jpeg.
  --caps      the caps of raw and length frames (default
              video/x-raw,format=GRAY8,width=640,height=480,framerate=30/1,
              what camera-sim.sh sends).  image/jpeg caps are decoded.
  --timeout   drop a camera that sends no complete frame for this many
              ms (default 1000).
  --frames    stop after N frames (default 0: until stopped).'

tf_receiver_help() {
  printf '\nReceiver options:\n%s\n' "$TF_RECEIVER_HELP"
}

tf_rx_host=${TF_HOST:-127.0.0.1}
tf_rx_port=${TF_PORT:-5000}
tf_rx_mode=${TF_MODE:-server}
tf_rx_framing=${TF_FRAMING:-header}
tf_rx_caps=video/x-raw,format=GRAY8,width=640,height=480,framerate=30/1
tf_rx_timeout=1000
tf_rx_frames=0

# Takes a receiver option off the front of "$@": returns 0 and sets
# tf_shift to the number of arguments used, or returns 1 if $1 is not one.
tf_receiver_option() {
  case $1 in
    --host | --port | --mode | --framing | --caps | --timeout | --frames)
      tf_need_arg "$@"
      ;;
    *) return 1 ;;
  esac
  case $1 in
    --host) tf_rx_host=$2 ;;
    --port) tf_rx_port=$2 ;;
    --mode) tf_rx_mode=$2 ;;
    --framing) tf_rx_framing=$2 ;;
    --caps) tf_rx_caps=$2 ;;
    --timeout) tf_rx_timeout=$2 ;;
    --frames) tf_rx_frames=$2 ;;
  esac
  tf_shift=2
}

# Checks the receiver options and sets tf_source, the pipeline up to raw
# video (tcpframesrc, a queue and a JPEG decoder when needed), and
# tf_source_elements, the elements that takes.
tf_receiver_setup() {
  [[ -n $tf_rx_host ]] || tf_usage_error "--host must not be empty"
  tf_check_port --port "$tf_rx_port"
  case $tf_rx_mode in
    server | client) ;;
    *) tf_usage_error "--mode must be server or client, not '$tf_rx_mode'" ;;
  esac
  tf_check_count --timeout "$tf_rx_timeout"
  tf_check_count --frames "$tf_rx_frames"

  local props=(mode="$tf_rx_mode" host="$tf_rx_host" port="$tf_rx_port"
    framing="$tf_rx_framing" timeout="${tf_rx_timeout}000000")
  local jpeg=0
  case $tf_rx_framing in
    header) ;;
    raw | length)
      props+=(caps="$tf_rx_caps")
      [[ $tf_rx_caps == image/jpeg* ]] && jpeg=1
      ;;
    jpeg) jpeg=1 ;;
    *) tf_usage_error "--framing must be header, raw, length or jpeg, not '$tf_rx_framing'" ;;
  esac
  if ((tf_rx_frames > 0)); then
    # num-buffers ends the stream with an EOS after that many frames.
    props+=(num-buffers="$tf_rx_frames")
  fi

  # The queue gives decoding and what follows a thread of their own, so
  # tcpframesrc keeps reading the socket meanwhile.
  tf_source=(tcpframesrc "${props[@]}" ! queue max-size-buffers=0
    max-size-bytes=0 max-size-time=2000000000 !)
  tf_source_elements=(tcpframesrc queue)
  if ((jpeg)); then
    tf_source+=(jpegdec !)
    tf_source_elements+=(jpegdec)
  fi
}

tf_receiver_banner() {
  if [[ $tf_rx_mode == server ]]; then
    tf_say "listening on $tf_rx_host:$tf_rx_port ($tf_rx_framing framing)"
  else
    tf_say "connecting to the camera at $tf_rx_host:$tf_rx_port ($tf_rx_framing framing)"
  fi
}

# Sets tf_display_sink (and its elements in tf_display_elements): a window
# when there is a display, otherwise fakesink, and says so.
tf_display_setup() {
  if tf_have_display; then
    # sync=false shows each frame when it arrives: the timestamps are
    # arrival times already, waiting for them only adds latency.
    tf_display_sink=(videoconvert ! autovideosink sync=false)
    tf_display_elements=(videoconvert autovideosink)
  else
    tf_say "no DISPLAY or WAYLAND_DISPLAY: not showing the video, frames go to fakesink"
    tf_display_sink=(fakesink sync=false)
    tf_display_elements=(fakesink)
  fi
}
