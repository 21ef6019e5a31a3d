"""diff and sync end to end: the CLI against the emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from reconciler.cli import main
from reconciler.emulator import Fault, RunningEmulator
from tests.apply.helpers import (
    TOKEN_ENV,
    Repo,
    actions,
    api_yaml,
    app_yaml,
    put_unowned_api,
    run_json,
    set_token_env,
)

MAPI = "/management/v2/organizations/DEFAULT/environments/DEFAULT"
AUTOMATION = "/automation/organizations/DEFAULT/environments/DEFAULT"


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator) -> None:
    set_token_env(monkeypatch, emulator.base_url)


@pytest.fixture
def repo(tmp_path: Path, emulator: RunningEmulator) -> Repo:
    return Repo(tmp_path / "repo", emulator.base_url)


def http(emulator: RunningEmulator) -> httpx.Client:
    return httpx.Client(base_url=emulator.base_url, headers={"Authorization": "Bearer emulator-token"})


def api_names(emulator: RunningEmulator) -> list[str]:
    with http(emulator) as client:
        data = client.post(f"{MAPI}/apis/_search", params={"perPage": 100}, json={}).json()["data"]
    return sorted(item["name"] for item in data)


def sync(capsys: pytest.CaptureFixture[str], repo: Repo, *flags: str) -> tuple[int, dict[str, object]]:
    return run_json(capsys, "sync", str(repo.root), *flags)


def test_create_noop_update_rename_delete(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    for name in ("alpha", "beta", "gamma", "delta"):
        repo.write(f"{name}.yaml", api_yaml(name))
    repo.write("app.yaml", app_yaml("shop"))
    code, report = sync(capsys, repo)
    assert code == 0 and report["ok"]
    assert actions(report) == {n: "create" for n in ("alpha", "beta", "gamma", "delta", "shop")}
    assert api_names(emulator) == ["alpha", "beta", "delta", "gamma"]

    emulator.reset_stats()
    code, report = run_json(capsys, "diff", str(repo.root), "--exit-code")
    assert code == 0 and set(actions(report).values()) == {"unchanged"}
    # the no-op costs the listings (one page each) plus one read per application, not one per API
    assert emulator.stats()["requests"] == {
        f"GET {MAPI.replace('DEFAULT', '{orgId}', 1).replace('DEFAULT', '{envId}', 1)}/apis": 1,
        "GET /management/organizations/{orgId}/environments/{envId}/applications/_paged": 1,
        "GET /automation/organizations/{orgId}/environments/{envId}/applications/{hrid}": 1,
    }

    repo.write("alpha.yaml", api_yaml("alpha", description="A better API"))
    code, report = run_json(capsys, "diff", str(repo.root), "--exit-code")
    assert code == 2
    (update,) = [a for a in report["actions"] if a["action"] == "update"]
    assert update["changes"] == [
        {
            "op": "changed",
            "path": "description",
            "old": "An API",
            "new": "A better API",
            "sensitive": False,
            "diff": None,
            "position": f"{repo.root}/alpha.yaml:9:3",
        }
    ]
    code, report = sync(capsys, repo)
    assert code == 0 and actions(report)["alpha"] == "update"

    # a rename is a new resource (new HRID) and the deletion of the old one
    repo.remove("beta.yaml")
    repo.write("beta2.yaml", api_yaml("beta-two", path="/beta"))
    code, report = sync(capsys, repo)
    assert code == 0, report
    assert actions(report) | {} == {
        "alpha": "unchanged",
        "beta-two": "create",
        "beta": "delete",
        "delta": "unchanged",
        "gamma": "unchanged",
        "shop": "unchanged",
    }
    assert api_names(emulator) == ["alpha", "beta-two", "delta", "gamma"]


def test_console_edit_is_drift_reverted_unless_told_not_to(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    repo.write("alpha.yaml", api_yaml("alpha"))
    assert sync(capsys, repo)[0] == 0
    with http(emulator) as client:
        item = client.post(f"{MAPI}/apis/_search", json={}).json()["data"][0]
        current = client.get(f"{MAPI}/apis/{item['id']}")
        body = {
            k: v
            for k, v in current.json().items()
            if k in ("name", "apiVersion", "definitionVersion", "type", "listeners", "endpointGroups")
        }
        body["description"] = "hand edit"
        assert (
            client.put(
                f"{MAPI}/apis/{item['id']}", json=body, headers={"If-Match": current.headers["ETag"]}
            ).status_code
            == 200
        )
    code, report = run_json(capsys, "sync", str(repo.root), "--no-revert-drift")
    assert code == 0 and actions(report) == {"alpha": "drifted"}
    assert report["summary"]["hasChanges"] is False
    code, report = sync(capsys, repo)
    assert code == 0 and actions(report) == {"alpha": "drifted"}
    assert report["actions"][0]["outcome"] == {"ok": True, "error": None, "detail": None}
    code, report = run_json(capsys, "diff", str(repo.root), "--exit-code")
    assert code == 0, report


def test_each_deletion_leaves_a_log_line_and_a_plan_does_not(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    for name in ("alpha", "beta", "gamma", "delta", "omega"):
        repo.write(f"{name}.yaml", api_yaml(name))
    assert sync(capsys, repo)[0] == 0
    repo.remove("omega.yaml")
    logged = ("--log-format", "json", "--log-level", "info")
    assert main(["diff", str(repo.root), *logged]) == 0
    assert "apply.resource_deleted" not in capsys.readouterr().err  # a plan deletes nothing
    assert main(["sync", str(repo.root), *logged]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    deleted = [e for e in lines if e["event"] == "apply.resource_deleted"]
    assert [e["resource"] for e in deleted] == ["ApiV4Definition/default/omega"]
    assert deleted[0]["reason"].startswith("owned, no longer in the repository")
    assert api_names(emulator) == ["alpha", "beta", "delta", "gamma"]


def test_two_owners_side_by_side_never_touch_each_other(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, emulator: RunningEmulator
) -> None:
    team_a, team_b = Repo(tmp_path / "a", emulator.base_url), Repo(tmp_path / "b", emulator.base_url)
    team_a.write("a.yaml", api_yaml("from-a"))
    team_b.write("b.yaml", api_yaml("from-b"))
    assert sync(capsys, team_a, "--owner", "team-a")[0] == 0
    assert sync(capsys, team_b, "--owner", "team-b")[0] == 0
    # team b empties its repository: only its own API may go, and only past the empty-repo guard
    team_b.remove("b.yaml")
    code, report = sync(capsys, team_b, "--owner", "team-b")
    assert code == 1 and actions(report) == {"from-b": "blocked"}
    code, report = sync(capsys, team_b, "--owner", "team-b", "--force-prune")
    assert code == 0 and actions(report) == {"from-b": "delete"}
    # team b now declares team a's API: a conflict, never an update, even with --adopt
    team_b.write("a.yaml", api_yaml("from-a"))
    code, report = sync(capsys, team_b, "--owner", "team-b", "--adopt")
    assert code == 1 and actions(report) == {"from-a": "conflict"}
    assert api_names(emulator) == ["from-a"]


def test_prune_guard_refuses_mass_deletion(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    for i in range(8):
        repo.write(f"api{i}.yaml", api_yaml(f"api{i}"))
    assert sync(capsys, repo)[0] == 0
    for i in range(3):  # 3 of 8 owned = 37.5% > 25%
        repo.remove(f"api{i}.yaml")
    code, report = sync(capsys, repo)
    assert code == 1 and sorted(a for a, k in actions(report).items() if k == "blocked") == [
        "api0",
        "api1",
        "api2",
    ]
    assert len(api_names(emulator)) == 8
    code, report = sync(capsys, repo, "--prune-threshold", "50%")
    assert code == 0 and len(api_names(emulator)) == 5
    repo.remove("api3.yaml")
    code, report = sync(capsys, repo, "--no-prune")
    assert code == 0 and actions(report)["api3"] == "skipped"
    assert len(api_names(emulator)) == 5


def test_partial_failure_is_isolated_and_fails_the_run(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    for name in ("one", "two", "three"):
        repo.write(f"{name}.yaml", api_yaml(name))
    emulator.set_faults([Fault.parse("PUT */automation/*/apis=500:1")])
    code, report = sync(capsys, repo)
    assert code == 1 and not report["ok"]
    outcomes = [a["outcome"]["ok"] for a in report["actions"]]
    assert sorted(outcomes) == [False, True, True]
    assert report["applied"] == {"succeeded": 2, "failed": 1, "text": "Applied: 2 succeeded, 1 failed"}
    emulator.set_faults([])
    code, report = sync(capsys, repo)
    assert code == 0 and sorted(actions(report).values()) == ["create", "unchanged", "unchanged"]


def test_broken_repository_changes_nothing(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    repo.write("one.yaml", api_yaml("one"))
    assert sync(capsys, repo)[0] == 0
    before = json.dumps(emulator.dump_state(), sort_keys=True)
    repo.remove("one.yaml")
    repo.write("two.yaml", api_yaml("two").replace("type: PROXY", "type: SOAP"))
    code, report = sync(capsys, repo)
    assert code == 1 and report["summary"] is None and report["actions"] == []
    assert [p["message"][:6] for p in report["problems"]] == ['"SOAP"']
    assert json.dumps(emulator.dump_state(), sort_keys=True) == before


def test_unknown_secret_stops_before_any_request(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV)
    repo.write("one.yaml", api_yaml("one"))
    emulator.reset_stats()
    code, report = run_json(capsys, "sync", str(repo.root), "--secrets-dir", str(repo.root / "none"))
    assert code == 1 and "secret default/apim-token" in report["problems"][0]["message"]
    assert emulator.stats()["total"] == 0


def test_output_formats(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    from reconciler.cli import main

    repo.write("one.yaml", api_yaml("one"))
    assert main(["diff", str(repo.root), "--output", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert (
        markdown.startswith("### apim-reconciler plan")
        and "| 🟢 create | `ApiV4Definition/default/one`" in markdown
    )
    assert main(["diff", str(repo.root)]) == 0
    text = capsys.readouterr().out
    assert "+ create ApiV4Definition/default/one (default-one)" in text
    assert text.rstrip().endswith("Plan: 1 to create, 0 to update, 0 to delete")


def test_context_fields_may_be_templates(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI job points one repository at the emulator with ``baseUrl: [[ env `APIM_VAR_URL` ]]``."""
    monkeypatch.setenv("APIM_VAR_URL", emulator.base_url)
    context = (
        (repo.root / "context.yaml").read_text().replace(emulator.base_url, "'[[ env `APIM_VAR_URL` ]]'")
    )
    repo.write("context.yaml", context)
    repo.write("one.yaml", api_yaml("one"))
    code, report = sync(capsys, repo)
    assert code == 0 and actions(report) == {"one": "create"}
    monkeypatch.setenv("APIM_VAR_URL", "ftp://nowhere")
    code, report = sync(capsys, repo)
    assert code == 1 and "after resolving templates" in report["problems"][0]["message"]


def test_server_side_dry_run_validates_writes_and_stores_nothing(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    """`diff --server-side` sends each write with dryRun=true: APIM's own checks, nothing stored."""
    put_unowned_api(emulator.base_url, "hand-made", "/taken")
    repo.write("fine.yaml", api_yaml("fine"))
    repo.write("clash.yaml", api_yaml("clash", path="/taken"))
    before = json.dumps(emulator.dump_state(), sort_keys=True)
    emulator.reset_stats()
    code, report = run_json(capsys, "diff", str(repo.root), "--server-side")
    assert code == 1 and report["mode"] == "server-dry-run"
    outcomes = {a["resource"]["name"]: a["outcome"] for a in report["actions"] if "outcome" in a}
    assert outcomes["fine"] == {
        "ok": True,
        "error": None,
        "detail": "validated by APIM (dry run): nothing stored",
        "dryRun": True,
    }
    assert not outcomes["clash"]["ok"] and "/taken/" in outcomes["clash"]["error"]
    assert json.dumps(emulator.dump_state(), sort_keys=True) == before
    puts = emulator.stats()["requests"]["PUT /automation/organizations/{orgId}/environments/{envId}/apis"]
    assert puts == 2
