"""Fixtures of the emulator tests: HTTP clients, sample bodies, spec validators."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.emulator import RunningEmulator
from tests.emulator.support import API_SPEC, APP_SPEC, LOGINS, PEOPLE, SPEC_DIR, SpecBook


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


class People:
    """An emulator with every kind of user (see ``support.PEOPLE``); ``as_(name)`` is that user's client."""

    def __init__(self, emulator: RunningEmulator) -> None:
        self.emulator = emulator
        self._clients: dict[str, httpx.Client] = {}

    def as_(self, name: str) -> httpx.Client:
        if name not in self._clients:
            self._clients[name] = httpx.Client(base_url=self.emulator.base_url, auth=LOGINS[name], timeout=5)
        return self._clients[name]

    def close(self) -> None:
        for c in self._clients.values():
            c.close()


@pytest.fixture
def people(make_emulator: Any) -> Iterator[People]:
    crowd = People(make_emulator(users=PEOPLE))
    yield crowd
    crowd.close()
