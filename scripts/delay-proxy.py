#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that delays every chunk by a fixed time in each direction, keeping
order: a link with a round trip of twice that delay, for the benchmark's first token over a
slower link than loopback (this machine's kernel has no netem). Bytes pass unchanged.

Usage: delay-proxy.py <listen port> <upstream port on 127.0.0.1> <one-way delay in ms>"""
import asyncio
import sys
import time

LISTEN, UPSTREAM, DELAY = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000


async def pipe(reader, writer):
    """Copies reader to writer, each chunk DELAY after it arrived; closes writer at the end."""
    queue = asyncio.Queue()

    async def take():
        while True:
            try:
                chunk = await reader.read(65536)
            except OSError:  # reset by the peer: the same as an end here
                chunk = b""
            await queue.put((time.monotonic() + DELAY, chunk))
            if not chunk:
                return

    async def give():
        while True:
            due, chunk = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                if not chunk:
                    writer.close()
                    return
                writer.write(chunk)
                await writer.drain()
            except OSError:
                return

    await asyncio.gather(take(), give())


async def handle(client_reader, client_writer):
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", UPSTREAM)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))


async def main():
    # A page that goes away resets its connection; that is no error worth a traceback.
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: None)
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    async with server:
        await server.serve_forever()


asyncio.run(main())
