"""A proxy on 127.0.0.1 in front of the emulator that makes APIM's listing misbehave.

Why not the emulator itself: these are the answers of a listing that is wrong in ways the real
server's search index produces under concurrent writes or across nodes (a duplicate, a short page,
counts that move), and of a broken or hostile server (no body, no data). Injecting them between the
client and an otherwise faithful emulator keeps the emulator's own model untouched, and lets one
test name exactly which answer it is about. Everything else is forwarded as it is.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx


class ListingProxy:
    def __init__(
        self, upstream: str, *, fault: str | None = None, hide: str | None = None, delete_first: bool = False
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.fault = fault
        self.hide = hide
        self.delete_first = delete_first
        self.listing_reads = 0
        self._lock = threading.Lock()

    @contextmanager
    def running(self) -> Iterator[str]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                status, content, out_headers = proxy.handle(self.command, self.path, headers, body)
                self.send_response(status)
                for key, value in out_headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_PUT = do_POST = do_DELETE = _forward

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, dict[str, str]]:
        with httpx.Client(base_url=self.upstream, timeout=30) as client:
            if method == "DELETE" and self.delete_first:
                client.request(method, path, headers=headers)  # somebody else got there first
            response = client.request(method, path, headers=headers, content=body)
        content = response.content
        kept = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "etag")}
        parts = urlsplit(path)
        if method == "GET" and parts.path.endswith("/apis"):  # the listing the client reads
            page = int(parse_qs(parts.query).get("page", ["1"])[0])
            with self._lock:
                if page == 1:
                    self.listing_reads += 1
            status, content = self._misbehave(page, response.status_code, content)
            return status, content, kept
        return response.status_code, content, kept

    def _misbehave(self, page: int, status: int, content: bytes) -> tuple[int, bytes]:
        if status != 200:
            return status, content
        data = json.loads(content)
        items = data.get("data") or []
        pagination = data.get("pagination") or {}
        if self.hide is not None:
            hidden = [i for i in items if i.get("name") == self.hide]
            data["data"] = [i for i in items if i.get("name") != self.hide]
            if hidden and "totalCount" in pagination:
                pagination["totalCount"] -= len(hidden)  # a consistent listing that lacks it
        fault = self.fault
        if fault == "empty-body":
            return 200, b""
        if fault == "empty-data" and page == 1:
            data["data"] = []
        if fault == "short-page" and page == 1 and items:
            data["data"] = items[:-1]
        if fault == "duplicate" and page > 1 and items:
            first = self._first_item
            if first is not None:
                data["data"] = [first, *items[1:]]
        if fault == "count-drift" and page > 1 and "totalCount" in pagination:
            pagination["totalCount"] += 1
        if page == 1 and items:
            self._first_item = items[0]
        return 200, json.dumps(data).encode()

    _first_item: Any = None
