"""Fixtures shared by every test folder (`git_daemon` serves the `upstream` of the folder asking)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from reconciler.secrets import default_redactor
from tests.source.gitservers import GitDaemon, Upstream


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A fresh APIM emulator on a free port (org/env ``DEFAULT``, user ``admin``/``admin``, token
    ``emulator-token``); ``emulator.base_url`` is its address. Stopped after the test."""
    with start_emulator(EmulatorConfig()) as emu:
        yield emu


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., RunningEmulator]]:
    """Start emulators with a custom configuration; all are stopped after the test."""
    started: list[RunningEmulator] = []

    def make(**kwargs: Any) -> RunningEmulator:
        emu = start_emulator(EmulatorConfig(**kwargs))
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.close()


@pytest.fixture
def git_daemon(upstream: Upstream) -> Iterator[GitDaemon]:
    """`git daemon` serving the `upstream` fixture of the test's folder; stopped after the test."""
    daemon = GitDaemon(upstream.base)
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """Tests that run the CLI in-process configure structlog for the process: undo it after each."""
    yield
    structlog.reset_defaults()


@pytest.fixture(autouse=True)
def _fresh_redactor() -> Iterator[None]:
    """The process-wide redactor scrubs every output of the CLI: values one test registered (say
    "template") must not scrub the next test's messages."""
    yield
    default_redactor().clear()
