"""Faults of APIM during syncs: each time, the next syncs converge, nothing duplicated, nothing lost.

"Lost" includes what is not ours: every test starts with an API made in the console (no ownership
record), which must survive whatever happens.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.cli import main
from reconciler.emulator import Fault, RunningEmulator
from tests.apply.helpers import Repo, api_yaml, put_unowned_api, set_token_env

MAPI = "/management/v2/organizations/DEFAULT/environments/DEFAULT"
AUTOMATION = "/automation/organizations/DEFAULT/environments/DEFAULT"


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator) -> None:
    set_token_env(monkeypatch, emulator.base_url)


@pytest.fixture
def apim(emulator: RunningEmulator) -> Iterator[RunningEmulator]:
    """The emulator, holding one API made by hand in the console (not ours: never to be touched)."""
    put_unowned_api(emulator.base_url, "hand-made", "/hand-made")
    yield emulator


def names(emulator: RunningEmulator) -> list[str]:
    with httpx.Client(base_url=emulator.base_url, headers={"Authorization": "Bearer emulator-token"}) as http:
        data = http.post(f"{MAPI}/apis/_search", params={"perPage": 1000}, json={}).json()["data"]
    return sorted(item["name"] for item in data)


def repo_of(tmp_path: Path, emulator: RunningEmulator, count: int) -> Repo:
    repo = Repo(tmp_path / "repo", emulator.base_url)
    for i in range(count):
        repo.write(f"api{i:03d}.yaml", api_yaml(f"api{i:03d}"))
    return repo


def sync(repo: Repo, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, dict[str, object]]:
    code = main(["sync", str(repo.root), "--output", "json", *flags])
    return code, json.loads(capsys.readouterr().out)


def converge(repo: Repo, capsys: pytest.CaptureFixture[str], *flags: str, attempts: int = 6) -> int:
    """Sync until a run succeeds; returns how many runs it took."""
    for attempt in range(1, attempts + 1):
        code, _ = sync(repo, capsys, *flags)
        if code == 0:
            return attempt
    raise AssertionError(f"no convergence after {attempts} syncs")


def assert_converged(
    repo: Repo, apim: RunningEmulator, capsys: pytest.CaptureFixture[str], count: int
) -> None:
    assert names(apim) == sorted(["hand-made", *(f"api{i:03d}" for i in range(count))])
    assert main(["diff", str(repo.root), "--exit-code"]) == 0, capsys.readouterr().out
    capsys.readouterr()


def test_flaky_server_errors_and_resets(
    tmp_path: Path, apim: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repo_of(tmp_path, apim, 100)
    apim.set_faults(
        [Fault.parse("PUT */apis=500:0.1"), Fault.parse("* *=503:0.1"), Fault.parse("* *=reset:0.05")]
    )
    converge(repo, capsys, "--concurrency", "4")
    apim.set_faults([])
    assert_converged(repo, apim, capsys, 100)


def test_429_storm_with_retry_after(
    tmp_path: Path, apim: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repo_of(tmp_path, apim, 20)
    apim.set_faults([Fault.parse("PUT */apis=429:6")])  # six in a row: every worker is told to wait
    runs = converge(repo, capsys)
    assert runs <= 2
    assert apim.stats()["requests"]["PUT /automation/organizations/{orgId}/environments/{envId}/apis"] >= 26
    apim.set_faults([])
    assert_converged(repo, apim, capsys, 20)


def test_listing_slower_than_the_timeout_deletes_nothing(
    tmp_path: Path, apim: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repo_of(tmp_path, apim, 5)
    assert sync(repo, capsys)[0] == 0
    repo.remove("api004.yaml")
    repo.write("api005.yaml", api_yaml("api005"))
    apim.set_faults([Fault.parse("GET */apis=hang:10")])
    code, report = sync(repo, capsys, "--timeout", "1")
    apim.set_faults([])
    assert code == 1 and report["failures"] and "api004" in names(apim) and "api005" not in names(apim)
    assert sync(repo, capsys)[0] == 0
    assert "api004" not in names(apim) and "api005" in names(apim) and "hand-made" in names(apim)


def test_apim_down_for_a_whole_sync_then_back(
    tmp_path: Path, apim: RunningEmulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # APIM "moves" to a dead address the operator allowed too, so that it is the read that fails
    monkeypatch.setenv("APIM_SECRET_DEFAULT_APIM_TOKEN_ALLOWEDURLS", "http://127.0.0.1:9")
    repo = repo_of(tmp_path, apim, 5)
    assert sync(repo, capsys)[0] == 0
    up = (repo.root / "context.yaml").read_text()
    (repo.root / "context.yaml").write_text(up.replace(apim.base_url, "http://127.0.0.1:9"))
    repo.remove("api000.yaml")
    code, report = sync(repo, capsys)
    assert code == 1 and report["failures"][0]["stage"] == "read"
    assert "api000" in names(apim)
    (repo.root / "context.yaml").write_text(up)
    repo.write("api000.yaml", api_yaml("api000"))
    assert sync(repo, capsys)[0] == 0
    assert_converged(repo, apim, capsys, 5)


def test_one_bad_api_among_a_hundred(
    tmp_path: Path, apim: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repo_of(tmp_path, apim, 100)
    repo.write("api050.yaml", api_yaml("api050", path="/hand-made"))  # APIM refuses: the path is taken
    for _ in range(2):
        code, report = sync(repo, capsys)
        assert code == 1
        failed = [a["resource"]["name"] for a in report["actions"] if a.get("outcome", {}).get("ok") is False]
        assert failed == ["api050"]
    assert names(apim) == sorted(["hand-made", *(f"api{i:03d}" for i in range(100) if i != 50)])
    repo.write("api050.yaml", api_yaml("api050"))
    assert sync(repo, capsys)[0] == 0
    assert_converged(repo, apim, capsys, 100)
