"""HTTP/1.1 plumbing seen from a raw socket: keep-alive, pipelining, chunked bodies, bad requests."""

from __future__ import annotations

import base64
import json
import socket

from reconciler.emulator import RunningEmulator
from tests.emulator.support import AUTO, V2

AUTH = "Authorization: Basic " + base64.b64encode(b"admin:admin").decode()


def _exchange(emu: RunningEmulator, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def test_pipelined_keep_alive_then_close(emulator: RunningEmulator) -> None:
    get = f"GET {V2} HTTP/1.1\r\nHost: x\r\n{AUTH}\r\n\r\n".encode()
    last = f"GET {V2} HTTP/1.1\r\nHost: x\r\n{AUTH}\r\nConnection: close\r\n\r\n".encode()
    out = _exchange(emulator, get + get + last)
    assert out.count(b"HTTP/1.1 200 OK") == 3
    assert b"Connection: close" in out


def test_chunked_body_and_expect_continue(emulator: RunningEmulator) -> None:
    body = json.dumps({"hrid": "default-app", "name": "App", "description": "d"}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    head = (
        f"PUT {AUTO}/applications HTTP/1.1\r\nHost: x\r\n{AUTH}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    ).encode()
    out = _exchange(emulator, head + chunked)
    assert out.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")
    assert json.loads(out.split(b"\r\n\r\n", 2)[2])["name"] == "App"


def test_malformed_request_line(emulator: RunningEmulator) -> None:
    assert _exchange(emulator, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 Bad Request")


def test_http10_closes(emulator: RunningEmulator) -> None:
    out = _exchange(emulator, f"GET {V2} HTTP/1.0\r\n{AUTH}\r\n\r\n".encode())
    assert out.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" in out
