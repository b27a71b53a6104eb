#!/usr/bin/env python3
"""tf-watch in Python: tcpframesrc embedded in an application.

    pipelines/embed/tf-watch.py [--host HOST] [--port N] [--timeout-ms MS]
                                [--seconds N]

Prints the same lines as tf-watch.c (listening on, connected,
disconnected with its reason and frames, rejected, stopping) and stops
cleanly on SIGINT, SIGTERM or after --seconds.  Needs python3-gi and
gir1.2-gstreamer-1.0, and GST_PLUGIN_PATH pointing at the plugin.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def address_port(address, port):
    """ADDRESS:PORT, IPv6 addresses in brackets so the port stays clear."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def describe(s):
    """The line for a tcpframesrc peer message, or None for other ones."""
    name = s.get_name()
    if not name.startswith("tcpframesrc-"):
        return None
    event = name[len("tcpframesrc-"):]
    peer = address_port(s.get_string("address"), s.get_int("port")[1])
    line = f"{event} {peer}"
    if event != "connected":
        line += f" reason={s.get_string('reason')}"
    if event == "disconnected":
        line += f" frames={s.get_uint64('frames')[1]}"
    if s.has_field("error"):
        line += f' error="{s.get_string("error")}"'
    return line


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000,
                        help="0 picks a free port")
    parser.add_argument("--timeout-ms", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=0,
                        help="stop after N seconds (0: at SIGINT/SIGTERM)")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535 or args.timeout_ms < 0 or args.seconds < 0:
        parser.error("--port must be 0..65535, --timeout-ms and --seconds "
                     "at least 0")

    Gst.init(None)
    try:
        # Frames arrive in real time already: sync would only add latency.
        pipeline = Gst.parse_launch(
            "tcpframesrc name=src ! fakesink sync=false")
    except GLib.Error as e:
        print(f"tf-watch: {e.message}; is GST_PLUGIN_PATH set to the folder "
              "holding libgsttcpframe.so?", file=sys.stderr)
        return 1
    src = pipeline.get_by_name("src")
    src.set_property("host", args.host)
    src.set_property("port", args.port)
    src.set_property("timeout", args.timeout_ms * Gst.MSECOND)

    loop = GLib.MainLoop()
    state = {"status": 0, "stopping": False}

    def stop(why):
        # The handlers stay installed: a second Ctrl-C is only ignored.
        if not state["stopping"]:
            state["stopping"] = True
            print(f"stopping ({why})", flush=True)
            loop.quit()
        return GLib.SOURCE_CONTINUE

    def on_message(_bus, msg):
        if msg.type == Gst.MessageType.ELEMENT:
            line = describe(msg.get_structure())
            if line:
                print(line, flush=True)
        elif msg.type == Gst.MessageType.WARNING:
            print(f"tf-watch: warning: {msg.parse_warning()[0].message}",
                  file=sys.stderr)
        elif msg.type == Gst.MessageType.ERROR:
            print(f"tf-watch: error: {msg.parse_error()[0].message}",
                  file=sys.stderr)
            state["status"] = 1
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, stop, "SIGINT")
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, stop,
                         "SIGTERM")
    def time_is_up():
        stop(f"after {args.seconds} s")
        return GLib.SOURCE_REMOVE

    if args.seconds > 0:
        GLib.timeout_add_seconds(args.seconds, time_is_up)

    # The port is bound on the way to PAUSED: current-port is known now.
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        msg = bus.pop_filtered(Gst.MessageType.ERROR)
        why = msg.parse_error()[0].message if msg else "it did not start"
        print(f"tf-watch: {why}", file=sys.stderr)
        state["status"] = 1
    else:
        port = src.get_property("current-port")
        print(f"listening on {address_port(args.host, port)}", flush=True)
        loop.run()
    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    return state["status"]


if __name__ == "__main__":
    sys.exit(main())
