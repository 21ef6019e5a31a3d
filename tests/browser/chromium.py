"""Debian's headless Chromium, driven over its DevTools pipe: load a page, read its DOM, styles, text.

Two ways in, both the browser itself and no driver library:

- `dump_dom(url)`: ``chromium --headless --dump-dom``, the DOM after the page's scripts ran;
- `Chromium`: ``--remote-debugging-pipe`` (the DevTools protocol as NUL-terminated JSON on file
  descriptors 3 and 4), for what the command line cannot do: load a page with JavaScript off
  (``--blink-settings=scriptEnabled=false`` makes ``--dump-dom`` print nothing), read a computed
  style, take a screenshot of a page as it is.

Every browser gets its own temporary profile and is closed after use. Tests skip, naming the path,
when /usr/bin/chromium is absent (``.ci/run`` installs it).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI, no user namespaces in containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
)


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"no headless browser: {CHROMIUM} is absent (apt-get install chromium; .ci/run does)")


def dump_dom(url: str, *, timeout: float = 60) -> str:
    """The DOM of `url` after its scripts ran, serialised by Chromium itself."""
    require_chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        result = subprocess.run(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip(), f"chromium printed no DOM for {url}: {result.stderr[-2000:]}"
    return result.stdout


class Chromium:
    """One headless browser on a DevTools pipe; `open(url)` loads a page in a new tab."""

    def __init__(self, *, timeout: float = 30) -> None:
        require_chromium()
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire() -> None:  # in the child: the pipes at 3 (commands in) and 4 (answers out)
            commands, answers = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(commands, 3)
            os.dup2(answers, 4)

        self._process = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={self._profile.name}", "--remote-debugging-pipe"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire,
            close_fds=False,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError, AssertionError, EOFError):
            self.call("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._profile.cleanup()

    # -- the protocol ----------------------------------------------------------------------------

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise EOFError("chromium closed its DevTools pipe")
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        data: dict[str, Any] = json.loads(message)
        return data

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._next_id:
                assert "error" not in answer, f"{method}: {answer['error']}"
                return answer.get("result", {})
            self._events.append(answer)

    def wait_event(self, method: str, session: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            for index, event in enumerate(self._events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self._events.pop(index)
            self._events.append(self._receive(deadline))

    # -- pages -----------------------------------------------------------------------------------

    def open(self, url: str, *, javascript: bool = True, width: int = 1280, height: int = 900) -> Page:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=session)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        if not javascript:
            self.call("Emulation.setScriptExecutionDisabled", {"value": True}, session=session)
        answer = self.call("Page.navigate", {"url": url}, session=session)
        assert not answer.get("errorText"), f"{url}: {answer['errorText']}"
        self.wait_event("Page.loadEventFired", session)
        return Page(self, session)


class Page:
    """A loaded tab. `evaluate` runs in DevTools' own world, so it works with the page's scripts off."""

    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser = browser
        self.session = session

    def html(self) -> str:
        root = self.browser.call("DOM.getDocument", {"depth": -1}, session=self.session)["root"]
        outer: str = self.browser.call("DOM.getOuterHTML", {"nodeId": root["nodeId"]}, session=self.session)[
            "outerHTML"
        ]
        return outer

    def evaluate(self, expression: str) -> Any:
        answer = self.browser.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self.session
        )
        assert "exceptionDetails" not in answer, answer["exceptionDetails"]
        return answer["result"].get("value")

    def text(self, selector: str = "body") -> str:
        value = self.evaluate(f"document.querySelector({json.dumps(selector)})?.innerText ?? null")
        assert value is not None, f"no element matches {selector}"
        return str(value)

    def texts(self, selector: str) -> list[str]:
        found: list[str] = self.evaluate(
            f"Array.from(document.querySelectorAll({json.dumps(selector)}), e => e.innerText)"
        )
        return found

    def colour(self, selector: str) -> str:
        """The computed `color` of the first element matching `selector` (`rgb(26, 127, 55)`)."""
        value = self.evaluate(
            f"(e => e && getComputedStyle(e).color)(document.querySelector({json.dumps(selector)}))"
        )
        assert value, f"no element matches {selector}"
        return str(value)

    def screenshot(self, path: Path) -> None:
        data = self.browser.call("Page.captureScreenshot", {"format": "png"}, session=self.session)["data"]
        path.write_bytes(base64.b64decode(data))
