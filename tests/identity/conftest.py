"""Fixtures of the identity tests: emulators with a token lifetime or a JWT secret."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator


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
