#!/usr/bin/env python3
"""A WebSocket server that answers every upgrade, then breaks libp2p's WebSocket rules one way,
and keeps the connection open until the other side closes it. The suite runs one per way in the
test network (scripts/test-nodes.sh) so that browser tests see a page refuse such a peer with an
error that says why.

Ways:
  text     sends one text frame, "100". libp2p's WebSocket carries binary frames only; a browser
           hands a text frame to the page as a string, and `new Uint8Array("100")` is 100 zero
           bytes.
  overrun  sends one binary frame of 5 MiB, more than a page holds unread (4 MiB, MAX_UNREAD in
           src/net/websocket/browser.rs).

Usage: bad-websocket-server.py <listen port> <text|overrun>"""
import base64
import hashlib
import socketserver
import struct
import sys

PORT = int(sys.argv[1])
WAY = sys.argv[2]
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
OVERRUN_BYTES = 5 * 1024 * 1024


def frame():
    """The frame that breaks the rules (RFC 6455 section 5.2: FIN, opcode, unmasked length)."""
    if WAY == "text":
        return b"\x81\x03100"
    if WAY == "overrun":
        return b"\x82\x7f" + struct.pack(">Q", OVERRUN_BYTES) + bytes(OVERRUN_BYTES)
    sys.exit(f"unknown way {WAY!r}: text or overrun")


FRAME = frame()


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = self.request.recv(4096)
            if not chunk or len(request) > 65536:
                return
            request += chunk
        key = b""
        for line in request.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        self.request.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        try:
            self.request.sendall(FRAME)
            while self.request.recv(4096):
                pass
        except OSError:
            pass  # the page refused us and closed: what the test wants


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


with Server(("127.0.0.1", PORT), Handler) as server:
    print("ready", flush=True)
    server.serve_forever()
