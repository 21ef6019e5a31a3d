"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A fresh APIM emulator on a free port (org/env ``DEFAULT``, user ``admin``/``admin``, token
    ``emulator-token``); ``emulator.base_url`` is its address. Stopped after the test."""
    with start_emulator(EmulatorConfig()) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """Tests that run the CLI in-process configure structlog for the process: undo it after each."""
    yield
    structlog.reset_defaults()
