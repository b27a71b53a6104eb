#!/usr/bin/env python3
"""A complete camera for tcpframesrc's `header` framing, in plain Python.

    pipelines/tiny-camera.py HOST PORT [FRAMES]

Sends FRAMES (default 100) 320x240 GRAY8 frames at 30 fps: a moving
gradient.  Stop it with Ctrl-C.  Firmware in C does the same with one
struct and two send() calls per frame.
"""
import socket, struct, sys, time

host, port = sys.argv[1], int(sys.argv[2])
frames = int(sys.argv[3]) if len(sys.argv) > 3 else 100
w, h = 320, 240
caps = f"video/x-raw,format=GRAY8,width={w},height={h},framerate=30/1".encode()
sock = socket.create_connection((host, port))
for seq in range(frames):
    payload = bytes((x + y + 4 * seq) & 0xFF for y in range(h) for x in range(w))
    c = caps if seq == 0 else b""          # caps on the first frame only
    header = b"TFRM" + struct.pack(">BBHIIQ", 1, 1 if c else 0, len(c),
                                   len(payload), seq, time.time_ns())
    sock.sendall(header + c + payload)
    time.sleep(1 / 30)
sock.close()
