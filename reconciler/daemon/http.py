"""A small HTTP/1.1 server on asyncio streams, for the daemon's few endpoints.

Health checks, a Prometheus scrape and a webhook need no framework: one request per connection
(``Connection: close``), bounded everywhere an untrusted client could hold us (head size, body size,
read time), and served in the daemon's own event loop, so that handlers read the loop's state
without locks or threads. Every body is scrubbed of known secrets on its way out. A body larger than the limit is refused from its ``Content-Length``,
before a byte of it is read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import structlog

from reconciler.secrets import default_redactor
from reconciler.textsafe import json_text

_log = structlog.get_logger(__name__)

MAX_HEAD = 16 * 1024
READ_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes = b""
    peer: str = ""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def text(cls, status: int, text: str, **kwargs: Any) -> Response:
        return cls(status, text.encode("utf-8"), **kwargs)

    @classmethod
    def json(cls, status: int, data: Any, **kwargs: Any) -> Response:
        body = (json_text(data) + "\n").encode("utf-8")
        return cls(status, body, "application/json", **kwargs)


Handler = Callable[[Request], Awaitable[Response]]


def _serialise(response: Response) -> bytes:
    """The response on the wire, its body scrubbed of every secret this process knows: whatever a
    handler put in /status, /metrics or an error, no secret leaves through this port."""
    body = default_redactor().scrub(response.body.decode("utf-8", "replace")).encode("utf-8")
    response = replace(response, body=body)
    reason = HTTPStatus(response.status).phrase
    lines = [
        f"HTTP/1.1 {response.status} {reason}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        "Connection: close",
        "Cache-Control: no-store",
        *(f"{name}: {value}" for name, value in response.headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


class HttpServer:
    """Serves ``handler`` on ``host:port``; ``max_body`` bounds every request body."""

    def __init__(self, handler: Handler, host: str, port: int, *, max_body: int) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._max_body = max_body
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, reuse_address=True, limit=MAX_HEAD
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            response = await asyncio.wait_for(
                self._respond(reader, str(peer[0]) if peer else ""), READ_TIMEOUT
            )
        except TimeoutError:
            response = Response.text(408, "request timeout\n")
        except Exception:
            _log.exception("daemon.http_error")
            response = Response.text(500, "internal error\n")
        try:
            writer.write(_serialise(response))
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _respond(self, reader: asyncio.StreamReader, peer: str) -> Response:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            return Response.text(431, "request head too large\n")
        except asyncio.IncompleteReadError:
            return Response.text(400, "incomplete request\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return Response.text(400, "bad request line\n")
        method, target, _ = parts
        headers: dict[str, str] = {}
        for line in header_lines:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                return Response.text(400, "bad header line\n")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return Response.text(411, "send a Content-Length (chunked bodies are not accepted)\n")
        length_text = headers.get("content-length", "0") or "0"
        if not length_text.isdigit():
            return Response.text(400, "bad Content-Length\n")
        length = int(length_text)
        if length > self._max_body:
            return Response.text(413, f"body over the {self._max_body}-byte limit\n")
        try:
            body = await reader.readexactly(length) if length else b""
        except asyncio.IncompleteReadError:
            return Response.text(400, "incomplete body\n")
        path = urlsplit(target).path or "/"
        response = await self._handler(Request(method.upper(), path, headers, body, peer))
        return replace(response, body=b"") if method.upper() == "HEAD" else response
