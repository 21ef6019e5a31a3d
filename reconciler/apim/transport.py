"""The HTTP transport under our httpx client: httpcore pools split into lanes, on asyncio sockets.

A sync is a burst of short requests, and on a small machine it is bound by the client's CPU per
request, not by the network (bench/README.md). Two costs of httpx's default transport are ours to
avoid; HTTP itself (h11, httpcore's connection handling) is left as it is:

* httpcore's pool checks every one of its connections (expired? idle?) for each request, so its
  cost per request grows with the pool: 32 connections in one pool cost about 2.5 ms per request
  on a 2-CPU machine, lanes of 2 connections about 0.7 ms.
* httpcore reaches asyncio through anyio, whose stream wrappers and cancel scopes around every
  read and write were a tenth of a request's CPU; `AsyncioBackend` talks to asyncio directly.

Proxies are not handled here: a client that must use one keeps httpx's own transport.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio._backends._asyncio  # noqa: F401  # see below
import httpcore
import httpx

# httpcore's locks load anyio's asyncio backend at their first use, which put some 60 ms of module
# loading (a profile of a no-op sync at 1,000 APIs: open_code, stat, listdir) inside the first sync
# of every process: it loads with us instead. A private module of anyio, hence the pin on anyio.

_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProxyError, httpx.ProxyError),
)


class BodyTooLarge(httpx.TransportError):
    """The answer's body grew past the limit while it was read; the rest was not read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit} bytes")
        self.limit = limit


async def read_capped(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """A body read to its end, or BodyTooLarge as soon as it passes `limit` bytes."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        parts.append(chunk)
    return b"".join(parts)


class CappedStream(httpx.AsyncByteStream):
    """A response stream that refuses to yield more than `limit` bytes (for httpx's own transport)."""

    def __init__(self, inner: httpx.AsyncByteStream, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in self._inner:
            size += len(chunk)
            if size > self._limit:
                raise BodyTooLarge(self._limit)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class LanePool(httpx.AsyncBaseTransport):
    """The connection pool, split into small httpcore pools ("lanes"); each request goes to the least
    busy lane. The limits are those of the whole pool; one TLS context serves every lane. The body is
    read inside the lane, so that a lane counts as busy until its connection is free, and refused
    past `max_body` bytes (BodyTooLarge; the connection is dropped, not drained).
    """

    def __init__(
        self,
        limits: httpx.Limits,
        verify: ssl.SSLContext | bool,
        *,
        trust_env: bool = True,
        per_lane: int = 2,
        max_body: int = 64 * 1024 * 1024,
    ) -> None:
        self._max_body = max_body
        total = max(1, limits.max_connections or 100)
        count = -(-total // max(1, per_lane))
        keepalive = limits.max_keepalive_connections
        lane_keepalive = None if keepalive is None else max(1, -(-keepalive // count))
        context = (
            verify
            if isinstance(verify, ssl.SSLContext)
            else httpx.create_ssl_context(verify=verify, trust_env=trust_env)
        )
        backend = AsyncioBackend()
        self._lanes: list[httpcore.AsyncConnectionPool] = []
        for index in range(count):
            size = min(per_lane, total - index * per_lane)
            self._lanes.append(
                httpcore.AsyncConnectionPool(
                    ssl_context=context,
                    max_connections=size,
                    max_keepalive_connections=None if lane_keepalive is None else min(size, lane_keepalive),
                    keepalive_expiry=limits.keepalive_expiry,
                    network_backend=backend,
                )
            )
        self._busy = [0] * count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        busy = self._busy
        lane = busy.index(min(busy))
        busy[lane] += 1
        try:
            url = request.url
            core_request = httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
            with _as_httpx_errors():
                response = await self._lanes[lane].handle_async_request(core_request)
                try:
                    content = await read_capped(response.aiter_stream(), self._max_body)
                finally:
                    await response.aclose()
            return httpx.Response(
                status_code=response.status,
                headers=response.headers,
                content=content,
                extensions=response.extensions,
            )
        finally:
            busy[lane] -= 1

    async def aclose(self) -> None:
        for lane in self._lanes:
            await lane.aclose()


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """httpcore's exceptions as the httpx ones that callers catch (what httpx's transport does)."""
    try:
        yield
    except Exception as exc:
        for core_type, httpx_type in _ERRORS:
            if isinstance(exc, core_type):
                raise httpx_type(str(exc)) from exc
        raise


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """TCP (and TLS on top) for httpcore, straight on asyncio transports."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,  # httpcore's (level, name, value) tuples
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _StreamProtocol, host, port, local_addr=(local_address, 0) if local_address else None
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port} in time") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock: socket.socket | None = transport.get_extra_info("socket")
        if sock is not None:
            for option in socket_options or ():
                sock.setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _StreamProtocol(asyncio.Protocol):
    """Received bytes in a buffer, end of stream and errors as flags, and write flow control."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.closed = False
        self.error: BaseException | None = None
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake_reader()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake_reader()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self._wake_reader()
        self.resume_writing()

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        waiter, self._writable = self._writable, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def readable(self) -> None:
        while not self.buffer and not self.closed:
            self._readable = asyncio.get_running_loop().create_future()
            try:
                await self._readable
            finally:
                self._readable = None

    async def drained(self) -> None:
        if self._writable is not None:
            await asyncio.shield(self._writable)

    def _wake_reader(self) -> None:
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.BaseTransport, protocol: _StreamProtocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        try:
            async with asyncio.timeout(timeout):
                await protocol.readable()
        except TimeoutError:
            raise httpcore.ReadTimeout("no answer in time") from None
        if protocol.buffer:
            chunk = bytes(protocol.buffer[:max_bytes])
            del protocol.buffer[:max_bytes]
            return chunk
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error)) from protocol.error
        return b""  # the server closed the connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.closed or self._transport.is_closing():
            raise httpcore.WriteError(str(protocol.error or "the connection is closed"))
        self._transport.write(buffer)  # type: ignore[attr-defined]  # a stream transport
        try:
            async with asyncio.timeout(timeout):
                await protocol.drained()
        except TimeoutError:
            raise httpcore.WriteTimeout("the request could not be sent in time") from None
        if protocol.error is not None:
            raise httpcore.WriteError(str(protocol.error)) from protocol.error

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport,  # type: ignore[arg-type]  # a stream transport
                    self._protocol,
                    ssl_context,
                    server_hostname=server_hostname,
                )
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout("no TLS handshake in time") from None
        except (ssl.SSLError, OSError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:  # pragma: no cover  # only when the loop closes meanwhile
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        return AsyncioStream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # On an idle connection, anything received (data or the end) means it cannot be reused.
            return bool(self._protocol.buffer) or self._protocol.closed
        name = {"client_addr": "sockname", "server_addr": "peername"}.get(info, info)
        return self._transport.get_extra_info(name)
