"""Canaries, their derived forms, an APIM that echoes what it is sent, and running the CLI.

Every canary is a distinct string that appears nowhere else: a test plants it where a secret
lives (a mounted token, a variable, a template's secret) and asserts that no output holds it in
any form a server or a library could turn it into (`leaks`).
"""

from __future__ import annotations

import base64
import html
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

REPO_ROOT = Path(__file__).resolve().parents[2]


def forms(value: str) -> dict[str, str]:
    """The value in every form that must never be printed: raw, re-cased, escaped, encoded, cut short.

    Computed here independently of the scrubber, from the encodings' definitions.
    """
    data = value.encode()
    found = {
        "raw": value,
        "upper": value.upper(),
        "lower": value.lower(),
        "json": json.dumps(value)[1:-1],
        "url": quote(value, safe=""),
        "url-plus": quote_plus(value),
        "html": html.escape(value),
        "hex": data.hex(),
        "HEX": data.hex().upper(),
        "base64": base64.b64encode(data).decode().rstrip("="),
        "base64url": base64.urlsafe_b64encode(data).decode().rstrip("="),
        "prefix": value[:10],  # an error message cut mid-secret
    }
    # Inside a longer base64 text (base64 of "user:password"): a window of characters that only
    # the value's bytes decide, for each of the three alignments.
    for offset in (0, 1, 2):
        encoded = base64.b64encode(b"\0" * offset + data + b"\0\0\0").decode()
        start = -(-8 * offset // 6) + 1
        found[f"base64+{offset}"] = encoded[start : start + 12]
    for number, line in enumerate(value.splitlines()):
        if len(line.strip()) >= 8:
            found[f"line {number}"] = line.strip()
    return {name: form for name, form in found.items() if form}


def leaks(text: str, canaries: Mapping[str, str]) -> list[str]:
    """`name (form)` for every form of every canary found in the text."""
    return [
        f"{name} ({form_name}: {form!r})"
        for name, value in canaries.items()
        for form_name, form in forms(value).items()
        if form in text
    ]


def assert_no_leak(text: str, canaries: Mapping[str, str]) -> None:
    found = leaks(text, canaries)
    assert not found, "leaked: " + ", ".join(found)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI run: no RECONCILER_* or APIM_* settings of the test process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "APIM_"))}
    env.update(extra)
    return env


def cli(
    *args: str | Path, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m reconciler ARGS` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(env) if env is not None else clean_env(),
        check=False,
    )


def echo_forms(value: str) -> list[str]:
    """How a careless server quotes a value back: raw, upper-cased, JSON-escaped, URL-encoded,
    base64, and cut short in the middle."""
    return [
        value,
        value.upper(),
        json.dumps(value),
        quote(value, safe=""),
        base64.b64encode(value.encode()).decode(),
        value[: max(10, len(value) * 2 // 3)] + "...",
    ]


class EchoApim:
    """An HTTP server in front of the emulator that answers some requests with an error echoing
    the request's credentials and body fields in several encodings.

    Not the emulator: the emulator is APIM as documented, and must not be made to misbehave; real
    APIMs (and proxies in front of them) do quote what they were sent in error messages. `echo`
    decides which requests get the echo (by method and path); the others are forwarded to
    `upstream` unchanged.
    """

    def __init__(
        self,
        upstream: str,
        echo: Callable[[str, str], int | None],
        reply: Callable[[int, str, bytes], bytes] | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.reply = reply or self.echo_body
        self.echoed = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def do_PUT(self) -> None:
                self._serve()

            def do_DELETE(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status = echo(self.command, self.path.partition("?")[0])
                if status is not None:
                    server.echoed += 1
                    self._answer(status, server.reply(status, self.headers.get("Authorization", ""), body))
                    return
                request = urllib.request.Request(
                    server.upstream + self.path,
                    data=body or None,
                    method=self.command,
                    headers={
                        k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
                    },
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:  # 127.0.0.1
                        self._answer(response.status, response.read(), response.headers.get("Content-Type"))
                except urllib.error.HTTPError as error:
                    self._answer(error.code, error.read(), error.headers.get("Content-Type"))

            def _answer(self, status: int, payload: bytes, content_type: str | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type or "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True

    @staticmethod
    def echo_body(status: int, authorization: str, body: bytes) -> bytes:
        scheme, _, credential = authorization.partition(" ")
        quoted = [credential] if credential else []
        if scheme.lower() == "basic" and credential:
            quoted += base64.b64decode(credential).decode(errors="replace").split(":", 1)
        quoted += [s for s in _strings(_json(body)) if len(s) >= 12]
        message = "invalid request: " + "; ".join(form for value in quoted for form in echo_forms(value))
        details = [{"message": f"field rejected: {value}", "invalidValue": value} for value in quoted]
        return json.dumps({"httpStatus": status, "message": message, "details": details}).encode()

    def start(self) -> EchoApim:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def echo_apim(
    upstream: str,
    echo: Callable[[str, str], int | None],
    reply: Callable[[int, str, bytes], bytes] | None = None,
) -> Iterator[EchoApim]:
    """An `EchoApim` (answering with `reply(status, authorization, body)` when given), stopped after."""
    server = EchoApim(upstream, echo, reply).start()
    try:
        yield server
    finally:
        server.stop()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body.decode(errors="replace")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


CONTEXT = """\
apiVersion: gravitee.io/v1alpha1
kind: ManagementContext
metadata:
  name: {name}
spec:
  baseUrl: {base_url}
  organizationId: DEFAULT
  environmentId: DEFAULT
  auth:
    secretRef:
      name: {secret}
"""


def context_yaml(name: str, base_url: str, secret: str = "apim") -> str:
    return CONTEXT.format(name=name, base_url=base_url, secret=secret)


def api_yaml(name: str, context: str = "apim", *, description: str = "An API", extra: str = "") -> str:
    """A v4 proxy API; `extra` is YAML inserted under the endpoint's configuration (headers...)."""
    return f"""\
apiVersion: gravitee.io/v1alpha1
kind: ApiV4Definition
metadata:
  name: {name}
spec:
  contextRef:
    name: {context}
  name: {name}
  description: {description}
  version: "1.0"
  type: PROXY
  listeners:
    - type: HTTP
      paths:
        - path: /{name}
      entrypoints:
        - type: http-proxy
  endpointGroups:
    - name: default
      type: http-proxy
      endpoints:
        - name: default
          type: http-proxy
          inheritConfiguration: false
          configuration:
            target: https://{name}.example.com
{extra}  plans:
    Free:
      name: Free
      security:
        type: KEY_LESS
"""


def write_secret(secrets: Path, name: str, key: str, value: str) -> None:
    (secrets / name).mkdir(parents=True, exist_ok=True)
    (secrets / name / key).write_text(value + "\n")


def write_repo(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line of `path` holding `needle`."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
