#!/usr/bin/env python3
"""A WebSocket server that answers every upgrade, then sends one text frame, "100", and keeps the
connection open until the other side closes it. libp2p's WebSocket carries binary frames only;
the suite runs one in the test network (scripts/test-nodes.sh) so that a browser test sees a page
refuse such a peer with an error that says so. (A browser hands a text frame to the page as a
string, and `new Uint8Array("100")` is 100 zero bytes.)

Usage: text-frame-server.py <listen port>"""
import base64
import hashlib
import socketserver
import sys

PORT = int(sys.argv[1])
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3


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
        # FIN, opcode 1 (text), unmasked, 3 bytes.
        self.request.sendall(b"\x81\x03100")
        while self.request.recv(4096):
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


with Server(("127.0.0.1", PORT), Handler) as server:
    print("ready", flush=True)
    server.serve_forever()
