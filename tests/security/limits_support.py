"""A raw HTTP server on 127.0.0.1 that misbehaves on purpose: it trickles, or never stops sending.

Raw asyncio, not http.server and not the emulator: the point is byte-level control of what goes on
the wire (a body a few bytes at a time, a chunked body without end), which a real server or the
emulator would never produce.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

Behaviour = Callable[[asyncio.StreamWriter], Awaitable[None]]


def trickle(bytes_per_second: float) -> Behaviour:
    """Headers at once, then a JSON body one byte at a time, forever (each read sees data in time)."""

    async def send(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        await writer.drain()
        while True:
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(1 / bytes_per_second)

    return send


def endless(chunk: int = 65536) -> Behaviour:
    """A chunked JSON body that never ends, as fast as the client reads it."""

    async def send(writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        piece = b"%x\r\n%s\r\n" % (chunk, b" " * chunk)
        while True:
            writer.write(piece)
            await writer.drain()

    return send


@contextmanager
def misbehaving_server(behaviour: Behaviour) -> Iterator[str]:
    """Serve `behaviour` to every request on 127.0.0.1 from a thread of its own; yields the base URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")  # the request head; bodies are not needed here
            await behaviour(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up: that is what the tests want
        finally:
            writer.close()

    async def start() -> asyncio.Server:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        return server

    def serve() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(start())
        loop.run_forever()
        server.close()
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield f"http://127.0.0.1:{port[0]}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
