#!/usr/bin/env bash
# The main job: installs what is missing, builds, then records a simulated
# camera through tcpframesrc into an H.264 MP4 while the camera misbehaves
# the way real ones do:
#   - it streams 90 frames, then "reboots": a new connection streams while
#     the old one is left open and silent, and the element replaces the old
#     peer on the new one's first frame (reason replaced);
#   - it stalls mid-stream, and the element drops it with an RST after the
#     1 s timeout (reason timeout);
#   - it reconnects from the same source port, streams 90 frames and closes
#     (reason closed).
#
#   pipelines/demo.sh
#
# DEMO_PORT sets the port (default 5600).  With DISPLAY or WAYLAND_DISPLAY
# set (and CI unset), the video is shown as well.  Everything lands in
# demo-out/: demo.mp4, receiver.log (gst-launch -m) and camsim.log.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

port=${DEMO_PORT:-5600}
out=demo-out
camsim_script=connect,stream:90,connect,stream:60,silent:2500,wait-reset:3000,connect-same-port,stream:90,close

say() {
  echo "demo: $*"
}

die() {
  echo "demo: error: $*" >&2
  exit 1
}

if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
  die "DEMO_PORT must be a port number, not '$port'"
fi

show=0
if [[ -n ${DISPLAY:-}${WAYLAND_DISPLAY:-} && -z ${CI:-} ]]; then
  show=1
fi

# shellcheck source=pipelines/ensure-deps.sh disable=SC1091
source pipelines/ensure-deps.sh
if ((show)); then
  tf_ensure_deps --demo --display
else
  tf_ensure_deps --demo
fi
pipelines/build.sh build

camsim=build/tests/tools/tf-camsim
[[ -x $camsim ]] || die "$camsim was not built"
[[ -e build/gst-plugin/libgsttcpframe.so ]] ||
  die "build/gst-plugin/libgsttcpframe.so was not built"

listening() {
  [[ -n $(ss -Hltn "sport = :$port") ]]
}

if listening; then
  die "port $port is already in use; pick another with DEMO_PORT=N"
fi

mkdir -p "$out"
rm -f "$out/demo.mp4" "$out/receiver.log" "$out/camsim.log"

# Left to itself videoconvert hands x264enc GRAY8 as Y444, and a 4:4:4 H.264
# file is one most players refuse; I420 plays everywhere.
encode=(queue ! videoconvert ! 'video/x-raw,format=I420'
  ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30
  ! h264parse ! mp4mux ! filesink location="$out/demo.mp4")
receive=(tcpframesrc host=127.0.0.1 port="$port" timeout=1000000000)
if ((show)); then
  pipeline=("${receive[@]}" ! tee name=t t. ! "${encode[@]}"
    t. ! queue ! videoconvert ! autovideosink sync=false)
else
  pipeline=("${receive[@]}" ! "${encode[@]}")
fi

receiver_pid=
watch_pid=
# Ends the receiver on any early exit, a failed step or Ctrl-C, so no
# gst-launch is left holding the port; SIGINT first, for a usable MP4.
# shellcheck disable=SC2317  # only the EXIT trap calls it
cleanup() {
  if [[ -n $receiver_pid ]] && kill -0 "$receiver_pid" 2>/dev/null; then
    kill -INT "$receiver_pid" 2>/dev/null || true
    for _ in $(seq 30); do
      kill -0 "$receiver_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$receiver_pid" 2>/dev/null || true
  fi
  if [[ -n $watch_pid ]]; then
    kill "$watch_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

say "starting the receiver on 127.0.0.1:$port (log: $out/receiver.log)"
GST_PLUGIN_PATH=build/gst-plugin gst-launch-1.0 -e -m "${pipeline[@]}" \
  >"$out/receiver.log" 2>&1 &
receiver_pid=$!

# Shows the element's peer messages as they come, next to camsim's lines;
# --pid ends tail (and with it the pipe) once gst-launch is gone.
tail --pid="$receiver_pid" -n +1 -F "$out/receiver.log" 2>/dev/null |
  grep --line-buffered -o 'tcpframesrc-\(connected\|disconnected\|rejected\),.*' |
  sed -u 's/^/receiver: /' &
watch_pid=$!

# The first run after a build scans the plugin, which can take a while.
for _ in $(seq 100); do
  listening && break
  kill -0 "$receiver_pid" 2>/dev/null || break
  sleep 0.2
done
if ! listening; then
  tail -n 20 "$out/receiver.log" >&2 || true
  die "the receiver is not listening on port $port (see $out/receiver.log)"
fi

say "running the simulated camera: $camsim_script"
camsim_status=0
"$camsim" --port "$port" --fps 30 --script "$camsim_script" |
  tee "$out/camsim.log" || camsim_status=$?

# Lets the last frames through the encoder and the closed peer be reported
# before EOS.
sleep 1

say "stopping the receiver"
receiver_status=0
if kill -0 "$receiver_pid" 2>/dev/null; then
  # -e turns SIGINT into an EOS, which is what makes mp4mux write the index.
  kill -INT "$receiver_pid"
  for _ in $(seq 100); do
    kill -0 "$receiver_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$receiver_pid" 2>/dev/null; then
    say "the receiver did not stop within 10 s after SIGINT, killing it"
    kill -KILL "$receiver_pid" 2>/dev/null || true
    receiver_status=124
  fi
fi
wait "$receiver_pid" || receiver_status=$?
receiver_pid=
wait "$watch_pid" 2>/dev/null || true
watch_pid=

log=$out/receiver.log
# One pass over gst-launch -m's lines, e.g.
#   ... (element): tcpframesrc-disconnected, address=(string)127.0.0.1,
#   port=(int)40000, reason=(string)timeout, frames=(guint64)90;
# The three reasons this scenario should produce come first, zero or not.
{
  read -r connected
  read -r reasons
  read -r received
} < <(awk '
  /tcpframesrc-connected,/ { connected++ }
  /tcpframesrc-disconnected,/ {
    msg = substr($0, index($0, "tcpframesrc-disconnected,"))
    if (match(msg, /reason=\([a-z]*\)"?[a-z_-]+/)) {
      r = substr(msg, RSTART, RLENGTH)
      sub(/.*\)"?/, "", r)
      n[r]++
    }
    if (match(msg, /frames=\([a-z0-9]*\)[0-9]+/)) {
      f = substr(msg, RSTART, RLENGTH)
      sub(/.*\)/, "", f)
      frames += f
    }
  }
  END {
    split("replaced timeout closed", order)
    for (i = 1; i <= 3; i++) {
      out = out sep order[i] " " n[order[i]] + 0
      sep = ", "
      delete n[order[i]]
    }
    for (r in n)
      out = out sep r " " n[r]
    print connected + 0
    print out
    print frames + 0
  }' "$log")

file_frames=unknown
file_size=0
if [[ -s $out/demo.mp4 ]]; then
  file_size=$(stat -c %s "$out/demo.mp4")
  # Decoding every frame is the check that the file is really playable;
  # each buffer reaching fakesink is one decoded frame.
  if decoded=$(timeout 60 gst-launch-1.0 -v filesrc location="$out/demo.mp4" \
    ! qtdemux ! h264parse ! avdec_h264 ! fakesink silent=false 2>&1); then
    file_frames=$(grep -c 'last-message = chain' <<<"$decoded" || true)
  else
    file_frames="unknown (decoding failed)"
  fi
fi

say "summary"
echo "  peers connected:  $connected"
echo "  disconnects:      $reasons"
echo "  frames received:  $received"
echo "  output:           $out/demo.mp4 ($file_size bytes)"
echo "  frames in file:   $file_frames"
echo "  logs:             $out/receiver.log, $out/camsim.log"

status=0
if ((camsim_status != 0)); then
  echo "demo: error: the simulated camera failed (exit $camsim_status)" >&2
  status=1
fi
if ((receiver_status != 0)) || grep -q '^ERROR' "$log"; then
  grep -A3 '^ERROR' "$log" >&2 || true
  echo "demo: error: the receiver failed (exit $receiver_status, see $log)" >&2
  status=1
fi
if ((file_size == 0)); then
  echo "demo: error: $out/demo.mp4 is missing or empty" >&2
  status=1
fi
exit "$status"
