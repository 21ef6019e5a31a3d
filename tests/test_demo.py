"""`make demo` (scripts/demo.py, run as a real process) when its emulator's port is already taken, as
it is once a user has started the emulator the way the README shows."""

from __future__ import annotations

import errno
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO_PORT = 8083  # the port of samples/contexts/emulator.yaml and of the README's emulator

pytestmark = pytest.mark.timeout(180)


@contextmanager
def port_taken(port: int) -> Iterator[None]:
    """``port`` on 127.0.0.1 has a listener for the duration; one already there does as well."""
    listener = socket.socket()
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen(1)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
    try:
        yield
    finally:
        listener.close()


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/demo.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )


def test_the_demo_takes_a_free_port_when_8083_is_taken_and_says_which() -> None:
    with port_taken(DEMO_PORT):
        done = run_demo()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    said = re.search(r"port 8083 on 127\.0\.0\.1 is in use .*listens on port (\d+) instead", done.stdout)
    assert said, done.stdout[:2000]
    port = int(said.group(1))
    assert port != DEMO_PORT
    assert f"2. APIM emulator on http://127.0.0.1:{port}" in done.stdout
    # every step ran against that emulator, through a copy of samples/ pointing at it
    assert "Applied: 5 succeeded, 0 failed" in done.stdout
    assert done.stdout.rstrip().splitlines()[-3:] == [  # the last diff: the drift was reverted
        "No changes. APIM matches the repository.",
        "",
        "Plan: 0 to create, 0 to update, 0 to delete",
    ]
    assert "Traceback" not in done.stderr and "OSError" not in done.stderr


def test_a_port_asked_for_and_taken_is_a_clear_error() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        done = run_demo("--port", str(port))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"demo: port {port} on 127.0.0.1 is in use. Stop what listens there, choose another port with "
        "--port, or leave --port out to let the demo pick a free one."
    )
    assert "$ apim-reconciler" not in done.stdout  # nothing ran
