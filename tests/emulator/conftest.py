"""Fixtures of the emulator tests: HTTP clients, sample bodies, spec validators."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.emulator import RunningEmulator
from tests.emulator.support import API_SPEC, APP_SPEC, SPEC_DIR, SpecBook


@pytest.fixture(scope="session")
def specs() -> SpecBook:
    if not SPEC_DIR.is_dir():
        pytest.skip("reference specs not available")
    return SpecBook()


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, auth=("admin", "admin"), timeout=5) as c:
        yield c


@pytest.fixture
def api_spec() -> dict[str, Any]:
    return copy.deepcopy(API_SPEC)


@pytest.fixture
def app_spec() -> dict[str, Any]:
    return copy.deepcopy(APP_SPEC)
