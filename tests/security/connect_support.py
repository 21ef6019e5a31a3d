"""Helpers of the credential-binding tests: a recording HTTP server, a hosts trick, every connecting command.

The recorder is not the emulator on purpose: these tests must see every request that reaches a
server, with all of its headers, whatever it asks for and whether or not its credentials are any
good, and the emulator answers (and logs) only what APIM would. A server of an attacker is exactly
this: it records and answers anything.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from tests.apply.helpers import api_yaml, context_yaml

CANARY = "CANARY-deploy-token-0b5e"  # the token an attacker wants
SECRET = "apim-token"  # the secretRef of `context_yaml`
FAKE_HOST = "apim.example.test"  # resolves to 127.0.0.1 only through `resolve_to_loopback`


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]


class Recorder:
    """An HTTP server on 127.0.0.1 that records every request and answers 404 with a JSON body."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                recorder.requests.append(Recorded(self.command, self.path, dict(self.headers.items())))
                body = b'{"message": "recorded"}'
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def authorizations(self) -> list[str]:
        return [r.headers["Authorization"] for r in self.requests if "Authorization" in r.headers]

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def resolve_to_loopback(monkeypatch: pytest.MonkeyPatch, host: str = FAKE_HOST) -> Iterator[None]:
    """`host` resolves to 127.0.0.1 in this process, as a name in /etc/hosts would (which a test cannot
    edit here, and which glibc's HOSTALIASES does not reach in this sandbox): the only way to have a
    non-loopback *name* that still reaches a local server, with no network beyond 127.0.0.1."""
    real = socket.getaddrinfo

    def fake(name: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if name == host else name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    yield


@dataclass(frozen=True)
class Workspace:
    """A repository with context `apim` (secretRef apim-token) and one API, and a secrets folder."""

    root: Path
    repo: Path
    context: Path
    secrets: Path

    @classmethod
    def make(cls, root: Path, base_url: str, *, context_text: str | None = None) -> Workspace:
        repo = root / "repo"
        repo.mkdir(parents=True)
        context = repo / "context.yaml"
        context.write_text(context_text or context_yaml(base_url))
        (repo / "orders.yaml").write_text(api_yaml("orders"))
        secrets = root / "secrets"
        (secrets / SECRET).mkdir(parents=True)
        (secrets / SECRET / "bearerToken").write_text(CANARY + "\n")
        return cls(root, repo, context, secrets)

    def bind(self, url: str, key: str = "baseUrl") -> None:
        """What the operator does, outside the repository: a key beside the token."""
        (self.secrets / SECRET / key).write_text(url + "\n")


COMMANDS = ("diff", "sync", "run", "check-context", "export", "sa-check", "sa-rotate", "sa-create")


def argv(command: str, ws: Workspace) -> list[str]:
    """The command line of one connecting command against the workspace."""
    common = ["--secrets-dir", str(ws.secrets)]
    if command in ("diff", "sync"):
        return [command, str(ws.repo), *common]
    if command == "run":
        return ["run", str(ws.repo), "--once", "--listen", "", "--cache-dir", str(ws.root / "cache"), *common]
    if command == "check-context":
        return ["check-context", str(ws.repo), *common]
    if command == "export":
        return ["export", str(ws.repo), "--context", "apim", "--out", str(ws.root / "out"), *common]
    action = command.removeprefix("sa-")
    extra = ["--name", "apim-reconciler"] if action == "create" else []
    return ["service-account", action, "--context", str(ws.context), *extra, *common]


def run(capsys: pytest.CaptureFixture[str], args: Sequence[str]) -> tuple[int, str]:
    """The CLI in process; its exit code, and stdout and stderr together."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err
