"""Narrowing a sync (`--kind`, `--name`, `--label`): what is outside the scope is neither written nor
deleted, and a label selector turns pruning off (labels live in git only: APIM cannot tell which
deleted manifests had them). `--force-prune` keeps the prune guards, which count within the scope,
out of the way here (tests/plan/test_plan_guards.py has them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import Repo, actions, api_yaml, app_yaml, run_json, set_token_env


@pytest.fixture
def repo(tmp_path: Path, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Repo:
    set_token_env(monkeypatch, emulator.base_url)
    repo = Repo(tmp_path / "repo", emulator.base_url)
    for name in ("orders", "billing", "ops-tools", "ops-mail"):
        repo.write(f"{name}.yaml", api_yaml(name))
    repo.write("shop.yaml", app_yaml("shop"))
    return repo


def test_kind_and_name_narrow_writes_and_deletions(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    assert run_json(capsys, "sync", str(repo.root))[0] == 0
    repo.remove("orders.yaml")
    repo.remove("shop.yaml")
    repo.write("billing.yaml", api_yaml("billing", description="Changed"))

    force = "--force-prune"
    code, report = run_json(capsys, "diff", str(repo.root), "--kind", "Application", force)
    assert code == 0 and actions(report) == {"shop": "delete"}  # not the API that left git, nor billing

    code, report = run_json(capsys, "sync", str(repo.root), "--name", "ops-*", "--name", "orders", force)
    assert code == 0
    assert actions(report) == {"orders": "delete", "ops-mail": "unchanged", "ops-tools": "unchanged"}
    code, report = run_json(capsys, "diff", str(repo.root), force)
    assert actions(report) == {
        "billing": "update",
        "ops-mail": "unchanged",
        "ops-tools": "unchanged",
        "shop": "delete",
    }


def test_a_label_selector_never_prunes(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    labelled = api_yaml("ops-tools").replace(
        "metadata:\n  name: ops-tools\n", "metadata:\n  name: ops-tools\n  labels:\n    team: ops\n"
    )
    repo.write("ops-tools.yaml", labelled)
    assert run_json(capsys, "sync", str(repo.root))[0] == 0
    repo.remove("orders.yaml")
    repo.write("ops-tools.yaml", labelled.replace("description: An API", "description: Changed"))

    code, report = run_json(capsys, "sync", str(repo.root), "--label", "team=ops", "--force-prune")
    assert code == 0, report
    chosen = {a["resource"]["name"]: (a["action"], a["reason"]) for a in report["actions"]}
    assert chosen["ops-tools"][0] == "update"
    assert chosen["orders"] == ("skipped", chosen["orders"][1]) and "prune is disabled" in chosen["orders"][1]
    assert {chosen[n][0] for n in ("billing", "ops-mail", "shop")} == {"skipped"}  # out of the scope
    code, report = run_json(capsys, "diff", str(repo.root), "--force-prune")
    assert actions(report)["orders"] == "delete"  # still there: without the selector it would go
