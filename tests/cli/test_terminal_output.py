"""What a terminal gets and a pipe does not: colour in the report and the logs, unless ``NO_COLOR``
is set, and the progress bar of a large sync. The CLI runs as a real process; a terminal is a real
pseudo-terminal (`pty`), so `isatty()` answers as it does for a user.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import Repo, api_yaml, token_env

pytestmark = pytest.mark.timeout(120)

REPO_ROOT = Path(__file__).resolve().parents[2]
ESC = b"\x1b["
GREEN_CREATE = b"\x1b[32m+ create"


def _read_until_closed(fd: int, process: subprocess.Popen[bytes], deadline: float) -> bytes:
    """Everything written to a pty until its writer exited (Linux then answers EIO on the master)."""
    chunks = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the slave side is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif process.poll() is not None:
            break
    return b"".join(chunks)


def run_cli(
    *args: str, env: dict[str, str], stdout_tty: bool = False, stderr_tty: bool = False
) -> tuple[int, bytes, bytes]:
    """Run `python -m reconciler ARGS` with stdout and/or stderr on a pseudo-terminal of its own."""
    master_out, slave_out = pty.openpty() if stdout_tty else (None, None)
    master_err, slave_err = pty.openpty() if stderr_tty else (None, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=slave_out if slave_out is not None else subprocess.PIPE,
        stderr=slave_err if slave_err is not None else subprocess.PIPE,
    )
    for slave in (slave_out, slave_err):
        if slave is not None:
            os.close(slave)
    deadline = time.monotonic() + 90
    try:
        outputs = []
        for master, piped in ((master_out, process.stdout), (master_err, process.stderr)):
            if master is not None:
                outputs.append(_read_until_closed(master, process, deadline))
            else:
                assert piped is not None
                outputs.append(piped.read())
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for master in (master_out, master_err):
            if master is not None:
                os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    return code, outputs[0], outputs[1]


@pytest.fixture
def repo(tmp_path: Path, emulator: RunningEmulator) -> Repo:
    return Repo(tmp_path / "repo", emulator.base_url)


@pytest.fixture
def env(emulator: RunningEmulator) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_") and k != "NO_COLOR"}
    return clean | token_env(emulator.base_url)


def test_the_report_is_coloured_on_a_terminal_and_plain_in_a_pipe(repo: Repo, env: dict[str, str]) -> None:
    repo.write("alpha.yaml", api_yaml("alpha"))
    code, tty_out, _ = run_cli("diff", str(repo.root), env=env, stdout_tty=True)
    assert code == 0
    assert GREEN_CREATE in tty_out
    code, piped_out, _ = run_cli("diff", str(repo.root), env=env)
    assert code == 0
    assert b"+ create" in piped_out and ESC not in piped_out


@pytest.mark.parametrize("value", ["1", "true"])
def test_no_color_keeps_a_terminal_plain(repo: Repo, env: dict[str, str], value: str) -> None:
    repo.write("alpha.yaml", api_yaml("alpha"))
    code, out, _ = run_cli("diff", str(repo.root), env=env | {"NO_COLOR": value}, stdout_tty=True)
    assert code == 0
    assert b"+ create" in out and ESC not in out


def test_an_empty_no_color_is_no_request(repo: Repo, env: dict[str, str]) -> None:
    """no-color.org: NO_COLOR counts when "present and not an empty string"."""
    repo.write("alpha.yaml", api_yaml("alpha"))
    code, out, _ = run_cli("diff", str(repo.root), env=env | {"NO_COLOR": ""}, stdout_tty=True)
    assert code == 0
    assert GREEN_CREATE in out


def test_a_large_sync_draws_its_progress_bar_on_a_terminal_only(repo: Repo, env: dict[str, str]) -> None:
    for index in range(20):  # the bar's threshold (report/progress.py: MIN_ACTIONS)
        repo.write(f"api{index}.yaml", api_yaml(f"api{index}"))
    code, _, tty_err = run_cli("sync", str(repo.root), env=env, stderr_tty=True)
    assert code == 0
    assert b"] 20/20" in tty_err and b"\r[" in tty_err
    assert tty_err.rstrip(b" ").endswith(b"\r")  # and cleared at the end
    for index in range(20):
        repo.write(f"api{index}.yaml", api_yaml(f"api{index}", description="Changed"))
    code, _, piped_err = run_cli("sync", str(repo.root), env=env)
    assert code == 0
    assert b"\r" not in piped_err and b"20/20" not in piped_err


_WARN = "from reconciler.logs import configure_logging; import structlog; configure_logging(); structlog.get_logger().warning('test.colour', n=1)"


@pytest.mark.parametrize(("no_color", "coloured"), [(None, True), ("1", False)])
def test_console_logs_on_a_terminal_follow_no_color(
    env: dict[str, str], no_color: str | None, coloured: bool
) -> None:
    master, slave = pty.openpty()
    extra = {} if no_color is None else {"NO_COLOR": no_color}
    process = subprocess.Popen(
        [sys.executable, "-c", _WARN], cwd=REPO_ROOT, env=env | extra, stdout=subprocess.DEVNULL, stderr=slave
    )
    os.close(slave)
    try:
        err = _read_until_closed(master, process, time.monotonic() + 60)
        assert process.wait(timeout=30) == 0
    finally:
        os.close(master)
    assert b"test.colour" in err  # console lines, not JSON: stderr is a terminal
    assert (ESC in err) is coloured
