"""The hostile corpus: a clear error with file and line, exit 1, and the emulator's state unchanged."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from tests.apply.helpers import set_token_env
from tests.hostile.corpus import CASES, Case
from tests.hostile.runner import assert_refused, sync_baseline


@pytest.fixture(scope="module")
def apim() -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig()) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def baseline(apim: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> str:
    return sync_baseline(apim, tmp_path_factory.mktemp("baseline") / "repo")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_repository(
    case: Case,
    apim: RunningEmulator,
    baseline: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_token_env(monkeypatch, apim.base_url)
    assert_refused(case, apim, baseline, tmp_path / "repo", capsys)


def test_the_corpus_is_large_and_distinct() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(re.fullmatch(r"[a-z0-9-]+", c.id) for c in CASES)
