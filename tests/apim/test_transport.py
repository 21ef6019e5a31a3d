"""The lane pool and its asyncio network backend, against small raw HTTP servers on 127.0.0.1.

The emulator is a well-behaved server; these servers misbehave on purpose, in the ways that the
transport's own code must handle: a keep-alive connection closed while idle, a reader slower than
the request body, no answer at all, nobody listening.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import httpx
import pytest

from reconciler.apim.transport import LanePool

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request's head and body (Content-Length bodies only: that is what our client sends)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (await reader.readexactly(length) if length else b"")


async def serve(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def client(**timeouts: float) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    return httpx.AsyncClient(
        transport=LanePool(limits, False, trust_env=False, per_lane=4),
        timeout=httpx.Timeout(5.0, **timeouts),
    )


def test_an_idle_connection_closed_by_the_server_is_not_reused() -> None:
    connections = 0

    async def answer_once_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(OK)  # keep-alive by default in HTTP/1.1, but the server closes anyway
        await writer.drain()
        writer.close()

    async def scenario() -> list[int]:
        server, url = await serve(answer_once_then_close)
        async with server, client() as http:
            first = await http.get(url + "/a")
            await asyncio.sleep(0.1)  # the close reaches the client while the connection is idle
            second = await http.get(url + "/b")
            return [first.status_code, second.status_code]

    assert asyncio.run(scenario()) == [200, 200]
    assert connections == 2


def test_a_body_larger_than_the_socket_buffers_reaches_a_slow_reader() -> None:
    body = bytes(range(256)) * 32768  # 8 MiB: the transport must wait for the reader to drain
    received: list[bytes] = []

    async def slow_reader(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.3)
        received.append(await read_request(reader))
        writer.write(OK)
        await writer.drain()
        writer.close()

    async def scenario() -> int:
        server, url = await serve(slow_reader)
        async with server, client() as http:
            response = await http.put(url + "/big", content=body)
            return response.status_code

    assert asyncio.run(scenario()) == 200
    assert received[0].endswith(body)


def test_no_answer_is_a_read_timeout_and_nobody_listening_a_connect_error() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    with socket.socket() as unused:  # a port that was free a moment ago: nobody listens there
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]

    async def scenario() -> tuple[type[BaseException], type[BaseException]]:
        server, url = await serve(silent)
        async with server, client(read=0.2) as http:
            with pytest.raises(httpx.ReadTimeout) as timeout:
                await http.get(url + "/slow")
            with pytest.raises(httpx.ConnectError) as refused:
                await http.get(f"http://127.0.0.1:{closed_port}/")
            return type(timeout.value), type(refused.value)

    assert asyncio.run(scenario()) == (httpx.ReadTimeout, httpx.ConnectError)


def test_a_server_that_resets_mid_answer_is_a_protocol_or_read_error() -> None:
    async def half_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK[:40])  # the head, cut short
        await writer.drain()
        writer.transport.abort()

    async def scenario() -> None:
        server, url = await serve(half_answer)
        async with server, client() as http:
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                await http.get(url + "/cut")

    asyncio.run(scenario())
