"""Helpers for APIM client tests: bodies, a TLS terminator and a counting forward proxy on 127.0.0.1."""

from __future__ import annotations

import asyncio
import http.client
import http.server
import socket
import ssl
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

from reconciler.apim import ApimClient, ApimTarget, ClientConfig, RetryPolicy, Timeouts
from reconciler.secrets import Credentials, Secret

T = TypeVar("T")

TOKEN = "emulator-token"

FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, budget=20, max_retry_after=5)
FAST = ClientConfig(timeouts=Timeouts(connect=2, read=2, write=2, pool=2), retry=FAST_RETRY)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def bearer(token: str = TOKEN) -> Credentials:
    return Credentials(bearer=Secret(token))


def basic(user: str = "admin", password: str = "admin") -> Credentials:
    return Credentials(basic=(Secret(user), Secret(password)))


def client(
    base_url: str, creds: Credentials | None = None, config: ClientConfig = FAST, **kw: Any
) -> ApimClient:
    return ApimClient(ApimTarget.from_context_spec({"baseUrl": base_url}), creds or bearer(), config, **kw)


def api_spec(hrid: str = "default-echo", path: str = "/echo") -> dict[str, Any]:
    """A minimal valid Automation API `ApiV4Spec`."""
    return {
        "hrid": hrid,
        "name": hrid,
        "version": "1.0",
        "type": "PROXY",
        "state": "STARTED",
        "lifecycleState": "UNPUBLISHED",
        "visibility": "PRIVATE",
        "definitionContext": {"origin": "KUBERNETES", "syncFrom": "MANAGEMENT"},
        "listeners": [{"type": "HTTP", "paths": [{"path": path}], "entrypoints": [{"type": "http-proxy"}]}],
        "endpointGroups": [
            {
                "name": "default",
                "type": "http-proxy",
                "endpoints": [
                    {"name": "e", "type": "http-proxy", "configuration": {"target": "https://x.test"}}
                ],
            }
        ],
        "plans": [
            {
                "hrid": "keyless",
                "name": "Keyless",
                "security": {"type": "KEY_LESS"},
                "status": "PUBLISHED",
                "validation": "AUTO",
                "mode": "STANDARD",
                "type": "API",
            }
        ],
    }


@contextmanager
def tls_terminator(upstream_port: int, server_context: ssl.SSLContext) -> Iterator[int]:
    """A TLS server on 127.0.0.1 that pipes decrypted bytes to the (plain HTTP) emulator."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []
    stop = asyncio.Event()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context)
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        await stop.wait()
        server.close()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield port[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)


class CountingProxy:
    """A minimal HTTP forward proxy (absolute-form requests, plain http only) that counts what it relays."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self) -> None:
                proxy.requests.append(f"{self.command} {self.path}")
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "host")
                }
                upstream = http.client.HTTPConnection(url.hostname or "", url.port or 80, timeout=5)
                target = url.path + (f"?{url.query}" if url.query else "")
                upstream.request(self.command, target, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = _relay

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
