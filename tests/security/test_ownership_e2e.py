"""Wrongful deletions and take-overs, end to end against the emulator (issue 14, critical 3 and
high 4, 7, 8; medium: the prune ratchet).

Each test does what an attacker or an unlucky operator would do to a live APIM and asserts what a
user cares about: no object that is in git is ever absent from APIM after a sync, nothing unowned is
overwritten, and the run says why it refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import (
    Repo,
    actions,
    api_yaml,
    context_yaml,
    put_unowned_api,
    run_json,
    set_token_env,
)
from tests.security.listing_proxy import ListingProxy

MAPI = "/management/v2/organizations/DEFAULT/environments/DEFAULT"
AUTOMATION = "/automation/organizations/DEFAULT/environments/DEFAULT"


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator) -> None:
    set_token_env(monkeypatch, emulator.base_url)


@pytest.fixture
def repo(tmp_path: Path, emulator: RunningEmulator) -> Repo:
    return Repo(tmp_path / "repo", emulator.base_url)


def _client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": "Bearer emulator-token"})


def listed(emulator: RunningEmulator) -> list[dict[str, Any]]:
    with _client(emulator.base_url) as client:
        body = client.post(f"{MAPI}/apis/_search", params={"perPage": 100, "expands": "metadata"}, json={})
    return list(body.json()["data"])


def names(emulator: RunningEmulator) -> list[str]:
    return sorted(item["name"] for item in listed(emulator))


def record_of(emulator: RunningEmulator, name: str) -> str:
    (item,) = [i for i in listed(emulator) if i["name"] == name]
    return str(item["metadata"]["apim-reconciler"])


def sync(capsys: pytest.CaptureFixture[str], repo: Repo, *flags: str) -> tuple[int, dict[str, Any]]:
    return run_json(capsys, "sync", str(repo.root), *flags)


def test_a_copied_ownership_record_never_deletes_the_live_api(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    repo.write("orders.yaml", api_yaml("orders"))
    repo.write("billing.yaml", api_yaml("billing"))
    assert sync(capsys, repo)[0] == 0
    # A console user puts the record of `orders` on an API of their own (or duplicates `orders`).
    put_unowned_api(emulator.base_url, "console-clone", "/clone")
    with _client(emulator.base_url) as client:
        clone = client.get(f"{AUTOMATION}/apis/console-clone").json()
        clone["metadata"] = [
            {
                "key": "apim-reconciler",
                "name": "apim-reconciler",
                "format": "STRING",
                "value": record_of(emulator, "orders"),
            }
        ]
        assert client.put(f"{AUTOMATION}/apis", json=clone).status_code == 200
    for _ in range(3):  # the bug deleted the live API every second sync and re-created it the next
        code, report = sync(capsys, repo)
        assert code == 1  # reported, loudly
        conflicts = [a for a in report["actions"] if a["action"] == "conflict"]
        assert len(conflicts) == 1 and "carries a copy" in conflicts[0]["reason"]
        assert not [a for a in report["actions"] if a["action"] == "delete"]
        assert names(emulator) == ["billing", "console-clone", "orders"]


def test_a_new_hrid_removes_the_old_api_in_the_same_sync(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    for name in ("orders", "a", "b", "c"):
        repo.write(f"{name}.yaml", api_yaml(name))
    assert sync(capsys, repo)[0] == 0
    repo.write(
        "orders.yaml", api_yaml("orders", path="/orders-v2").replace("spec:\n", "spec:\n  hrid: orders-v2\n")
    )
    code, report = sync(capsys, repo)
    assert code == 0, report
    by_kind = {a["action"]: a for a in report["actions"] if a["resource"]["name"] == "orders"}
    assert by_kind["create"]["hrid"] == "orders-v2" and by_kind["delete"]["hrid"] == "default-orders"
    assert by_kind["delete"]["outcome"]["ok"] and by_kind["delete"]["outcome"]["detail"] is None
    hrids = {json.loads(i["metadata"]["apim-reconciler"])["hrid"] for i in listed(emulator)}
    assert hrids == {"orders-v2", "default-a", "default-b", "default-c"}
    code, report = run_json(capsys, "diff", str(repo.root), "--exit-code")
    assert code == 0, report


def test_a_deletion_that_finds_nothing_says_already_gone(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    for name in ("orders", "a", "b", "c"):
        repo.write(f"{name}.yaml", api_yaml(name))
    assert sync(capsys, repo)[0] == 0
    repo.remove("orders.yaml")
    proxy = ListingProxy(emulator.base_url, delete_first=True)  # somebody deletes it meanwhile
    with proxy.running() as url:
        repo.write("context.yaml", context_yaml(url))
        code, report = sync(capsys, repo, "--allowed-apim-url", url)
    (deletion,) = [a for a in report["actions"] if a["action"] == "delete"]
    assert code == 0 and deletion["outcome"]["detail"] == "already gone (APIM found nothing to delete)"


def test_moving_an_api_between_two_contexts_of_one_environment_keeps_it(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    repo.write("second.yaml", context_yaml(emulator.base_url, name="second"))
    for name in ("orders", "a", "b", "c"):
        repo.write(f"{name}.yaml", api_yaml(name))
    assert sync(capsys, repo)[0] == 0
    before = {i["name"]: i["id"] for i in listed(emulator)}
    repo.write("orders.yaml", api_yaml("orders", context="second"))
    code, report = sync(capsys, repo)
    assert code == 0, report
    moved = [a for a in report["actions"] if a["resource"]["name"] == "orders"]
    assert [(a["action"], a["context"]) for a in moved] == [("update", "ManagementContext/default/second")]
    assert {i["name"]: i["id"] for i in listed(emulator)} == before  # the same object, never absent
    assert json.loads(record_of(emulator, "orders"))["context"] == "default/second"
    assert run_json(capsys, "diff", str(repo.root), "--exit-code")[0] == 0


def test_moving_an_api_to_a_context_outside_the_run_keeps_it(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    repo.write("second.yaml", context_yaml(emulator.base_url, name="second"))
    for name in ("orders", "a", "b", "c"):
        repo.write(f"{name}.yaml", api_yaml(name))
    assert sync(capsys, repo)[0] == 0
    repo.write("orders.yaml", api_yaml("orders", context="second"))
    code, report = sync(capsys, repo, "--context", "apim")
    assert code == 0 and "orders" in names(emulator)
    (kept,) = [a for a in report["actions"] if a["resource"]["name"] == "orders"]
    assert kept["action"] == "skipped" and "which this run does not sync" in kept["reason"]


def test_a_refused_prune_is_not_outvoted_by_the_next_sync(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    for name in ("a", "b", "c", "d"):
        repo.write(f"{name}.yaml", api_yaml(name))
    assert sync(capsys, repo)[0] == 0
    repo.remove("a.yaml")
    repo.remove("b.yaml")  # 2 of 4: refused
    for name in ("e", "f", "g", "h", "i", "j"):  # enough new ones to make 2 of 10 look harmless
        repo.write(f"{name}.yaml", api_yaml(name))
    for _ in range(2):
        code, report = sync(capsys, repo)
        assert code == 1
        assert names(emulator) == ["a", "b", "c", "d"]  # nothing deleted, nothing created meanwhile
        refused = {
            a["resource"]["name"]: a.get("refused") for a in report["actions"] if a["action"] == "blocked"
        }
        assert refused == {"a": "delete", "b": "delete", **dict.fromkeys("efghij", "create")}
    code, report = sync(capsys, repo, "--force-prune")
    assert code == 0, report
    assert names(emulator) == ["c", "d", "e", "f", "g", "h", "i", "j"]


def test_an_api_hidden_from_the_listing_is_not_taken_over(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    """APIM's index lags and a non-admin account sees only its own APIs: absent from the listing is
    not absent. A creation reads its HRID first and leaves what it finds alone."""
    put_unowned_api(emulator.base_url, "default-orders", "/console-orders")
    repo.write("orders.yaml", api_yaml("orders"))
    proxy = ListingProxy(emulator.base_url, hide="default-orders")
    with proxy.running() as url:
        repo.write("context.yaml", context_yaml(url))
        code, report = sync(capsys, repo, "--allowed-apim-url", url)
    (action,) = report["actions"]
    assert code == 1 and action["action"] == "create" and not action["outcome"]["ok"]
    assert "already holds this HRID" in action["outcome"]["error"]
    with _client(emulator.base_url) as client:
        kept = client.get(f"{AUTOMATION}/apis/default-orders").json()
    assert kept["listeners"][0]["paths"][0]["path"].startswith("/console-orders")
    assert not [m for m in kept.get("metadata") or [] if m["key"] == "apim-reconciler"]


@pytest.mark.parametrize(
    "fault",
    ["duplicate", "empty-data", "empty-body", "short-page", "count-drift"],
)
def test_an_inconsistent_listing_plans_nothing_for_its_context(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator, fault: str
) -> None:
    names_in_git = [f"api{i}" for i in range(6)]
    for name in names_in_git:
        repo.write(f"{name}.yaml", api_yaml(name))
    repo.write("gone.yaml", api_yaml("gone"))
    assert sync(capsys, repo, "--per-page", "3")[0] == 0
    repo.remove(
        "gone.yaml"
    )  # a legitimate deletion is pending: a sync that believed the listing would run it
    repo.write("new.yaml", api_yaml("new"))
    proxy = ListingProxy(emulator.base_url, fault=fault)
    with proxy.running() as url:
        repo.write("context.yaml", context_yaml(url))
        code, report = sync(capsys, repo, "--per-page", "3", "--allowed-apim-url", url)
    assert code == 1
    assert report["actions"] == []
    (failure,) = report["failures"]
    assert failure["stage"] == "read" and (
        "did not add up" in failure["message"] or "listing page" in failure["message"]
    )
    assert names(emulator) == sorted([*names_in_git, "gone"])  # nothing deleted, nothing created
    assert proxy.listing_reads >= 3 or fault == "empty-body"


@pytest.fixture
def two_commits(tmp_path: Path, emulator: RunningEmulator) -> Iterator[tuple[Path, str, str]]:
    """A git repository with two commits, the second committed later than the first."""
    import subprocess

    root = tmp_path / "git"
    root.mkdir()

    def git(*args: str, env: dict[str, str] | None = None) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], check=True, capture_output=True, text=True, env=env
        ).stdout.strip()

    import os

    git("init", "-q", "-b", "main")
    (root / "context.yaml").write_text(context_yaml(emulator.base_url))
    for name in ("a", "b", "c", "d"):
        (root / f"{name}.yaml").write_text(api_yaml(name, description="old"))
    base_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    git("add", "-A")
    git("commit", "-qm", "old", env={**base_env, "GIT_COMMITTER_DATE": "2026-11-01T10:00:00Z"})
    old = git("rev-parse", "HEAD")
    (root / "a.yaml").write_text(api_yaml("a", description="new"))
    (root / "d.yaml").unlink()
    (root / "e.yaml").write_text(api_yaml("e"))
    git("add", "-A")
    git("commit", "-qm", "new", env={**base_env, "GIT_COMMITTER_DATE": "2026-11-02T10:00:00Z"})
    yield root, old, git("rev-parse", "HEAD")


def test_a_sync_of_an_older_commit_does_not_undo_a_newer_one(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    emulator: RunningEmulator,
    two_commits: tuple[Path, str, str],
) -> None:
    root, old, new = two_commits
    url = f"file://{root}"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    code, report = run_json(capsys, "sync", url, "--ref", new, *cache)
    assert code == 0, report
    # The pipeline of the older commit runs late: it would bring `d` back and revert `a`.
    code, report = run_json(capsys, "sync", url, "--ref", old, *cache)
    assert code == 1
    refused = {a["resource"]["name"]: a.get("refused") for a in report["actions"] if a["action"] == "blocked"}
    assert refused == {"a": "update", "d": "create", "e": "delete"}
    assert "not rolled back (use --allow-rollback)" in next(
        a["reason"] for a in report["actions"] if a["resource"]["name"] == "a"
    )
    assert names(emulator) == ["a", "b", "c", "e"]
    with _client(emulator.base_url) as client:
        assert client.get(f"{AUTOMATION}/apis/default-a").json()["description"] == "new"
    code, report = run_json(capsys, "sync", url, "--ref", old, "--allow-rollback", *cache)
    assert code == 0, report
    assert names(emulator) == ["a", "b", "c", "d"]
    assert all(
        "rolls back" in a["reason"] for a in report["actions"] if a["resource"]["name"] in ("a", "d", "e")
    )


def test_blocked_actions_are_visible_in_every_format(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    for name in ("a", "b"):
        repo.write(f"{name}.yaml", api_yaml(name))
    assert sync(capsys, repo)[0] == 0
    repo.remove("a.yaml")
    repo.write("c.yaml", api_yaml("c"))
    from reconciler.cli import main

    assert main(["diff", str(repo.root)]) == 1
    text = capsys.readouterr().out
    assert "x delete (refused) ApiV4Definition/default/a" in text
    assert "x create (refused) ApiV4Definition/default/c" in text
    assert main(["diff", str(repo.root), "--output", "markdown"]) == 1
    markdown = capsys.readouterr().out
    assert "⛔ create refused" in markdown and "⛔ delete refused" in markdown
    assert actions(run_json(capsys, "diff", str(repo.root))[1]) == {
        "a": "blocked",
        "b": "unchanged",
        "c": "blocked",
    }
