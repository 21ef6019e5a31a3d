"""The report never claims what was not seen: unread contexts, dry runs and unconfirmed writes, each
through the CLI against the emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.cli import main
from reconciler.emulator import Fault, RunningEmulator
from tests.apply.helpers import (
    Repo,
    api_yaml,
    app_yaml,
    context_yaml,
    run_json,
    set_token_env,
)


@pytest.fixture
def unreachable() -> Iterator[str]:
    """A base URL where nothing answers: a port bound but not listening refuses every connection
    (port 1 is not safe: on some machines something listens there)."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.fixture
def repo(tmp_path: Path, emulator: RunningEmulator) -> Repo:
    return Repo(tmp_path / "repo", emulator.base_url)


@pytest.mark.parametrize("cause", ["unreachable", "wrong token"])
@pytest.mark.parametrize("command", ["diff", "sync"])
def test_a_context_that_cannot_be_read_makes_every_format_open_with_an_incomplete_plan(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    repo: Repo,
    emulator: RunningEmulator,
    unreachable: str,
    cause: str,
    command: str,
) -> None:
    repo.write("orders.yaml", api_yaml("orders"))
    if cause == "unreachable":
        repo.write("context.yaml", context_yaml(unreachable))
        set_token_env(monkeypatch, unreachable)
    else:
        set_token_env(monkeypatch, emulator.base_url, token="not-the-token")
    context_file = str(repo.root / "context.yaml")

    code, text = _run(capsys, command, str(repo.root))
    first = text.splitlines()[0]
    assert code == 1
    assert first.startswith("Plan incomplete: context default/apim") and context_file in first
    assert "APIM matches the repository" not in text
    assert "\nPlan: " not in text  # the counts are labelled as incomplete
    assert "Plan (incomplete, not read: default/apim): 0 to create" in text

    code, markdown = _run(capsys, command, str(repo.root), "--output", "markdown")
    first = markdown.splitlines()[0]
    assert code == 1 and "Plan incomplete" in first and "default/apim" in first
    assert "APIM matches the repository" not in markdown and "**Plan: " not in markdown

    code, report = run_json(capsys, command, str(repo.root))
    summary = report["summary"]
    assert code == 1 and not report["ok"]
    assert summary["hasErrors"] is True and summary["complete"] is False
    assert summary["notRead"] == [{"context": "ManagementContext/default/apim", "file": context_file}]
    assert summary["text"].startswith("Plan (incomplete, not read: default/apim):")


def test_counts_cover_the_contexts_that_were_read_and_say_so(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    repo: Repo,
    emulator: RunningEmulator,
    unreachable: str,
) -> None:
    """One context reachable, one not: the reachable one is planned, the report labels its counts."""
    set_token_env(monkeypatch, emulator.base_url)
    monkeypatch.setenv("APIM_SECRET_DEFAULT_DOWN_TOKEN_BEARERTOKEN", "t")
    monkeypatch.setenv("APIM_SECRET_DEFAULT_DOWN_TOKEN_BASEURL", unreachable)
    down = context_yaml(unreachable, name="down").replace("apim-token", "down-token")
    repo.write("down.yaml", down)
    repo.write("orders.yaml", api_yaml("orders"))
    repo.write("cart.yaml", api_yaml("cart", context="down"))
    code, text = _run(capsys, "diff", str(repo.root))
    lines = text.splitlines()
    assert code == 1
    assert lines[0].startswith("Plan incomplete: context default/down") and "down.yaml" in lines[0]
    assert "+ create ApiV4Definition/default/orders" in text and "cart" not in text
    assert "Plan (incomplete, not read: default/down): 1 to create, 0 to update, 0 to delete" in text


def test_server_side_dry_run_is_never_reported_as_applied(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, repo: Repo, emulator: RunningEmulator
) -> None:
    set_token_env(monkeypatch, emulator.base_url)
    repo.write("orders.yaml", api_yaml("orders"))
    assert run_json(capsys, "sync", str(repo.root))[0] == 0
    repo.write("orders.yaml", api_yaml("orders", description="Changed in git"))
    repo.write("cart.yaml", api_yaml("cart"))

    code, text = _run(capsys, "diff", str(repo.root), "--server-side")
    assert code == 0
    assert "=> applied" not in text and "Applied:" not in text
    assert text.count("=> validated by APIM (dry run): nothing stored") == 2
    assert "Dry run, nothing applied: 2 validated by APIM (dry run), 0 failed" in text

    code, markdown = _run(capsys, "diff", str(repo.root), "--server-side", "--output", "markdown")
    assert "Applied:" not in markdown and "validated by APIM (dry run)" in markdown

    code, report = run_json(capsys, "diff", str(repo.root), "--server-side")
    assert report["applied"]["dryRun"] is True and "Applied" not in report["applied"]["text"]
    assert all(a["outcome"]["dryRun"] for a in report["actions"] if "outcome" in a)


def test_a_deletion_in_a_dry_run_is_counted_as_not_sent(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, repo: Repo, emulator: RunningEmulator
) -> None:
    set_token_env(monkeypatch, emulator.base_url)
    for name in ("a", "b", "c", "d", "e"):
        repo.write(f"{name}.yaml", api_yaml(name))
    assert run_json(capsys, "sync", str(repo.root))[0] == 0
    repo.remove("e.yaml")
    code, report = run_json(capsys, "diff", str(repo.root), "--server-side")
    assert code == 0
    assert report["applied"] == {
        "succeeded": 0,
        "failed": 0,
        "text": "Dry run, nothing applied: 0 validated by APIM (dry run), 0 failed, 1 deletion(s) not sent",
        "dryRun": True,
        "notSent": 1,
    }


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("PUT */automation/*/apis=empty", "APIM answered the write with {}"),
        ("PUT */automation/*/apis=nocontent", "APIM answered the write without a body"),
        ("PUT */automation/*/applications=nocontent", "APIM answered the write without a body"),
        ("PUT */apis/import-crd=empty", "APIM answered the write with {}"),
    ],
)
def test_a_write_answered_without_the_object_is_not_reported_as_applied(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    repo: Repo,
    emulator: RunningEmulator,
    fault: str,
    said: str,
) -> None:
    set_token_env(monkeypatch, emulator.base_url)
    if "applications" in fault:
        repo.write("shop.yaml", app_yaml("shop"))
    elif "import-crd" in fault:
        repo.write("legacy.yaml", _V2_API)
    else:
        repo.write("orders.yaml", api_yaml("orders"))
    emulator.set_faults([Fault.parse(fault)])
    code, report = run_json(capsys, "sync", str(repo.root))
    (action,) = report["actions"]
    assert code == 1 and not report["ok"]
    assert action["outcome"]["ok"] is False and said in action["outcome"]["error"]
    assert "not confirmed" in action["outcome"]["error"]
    assert report["applied"]["succeeded"] == 0 and report["applied"]["failed"] == 1

    code, text = _run(capsys, "sync", str(repo.root))
    assert code == 1 and "=> applied" not in text and "FAILED: PUT" in text

    emulator.set_faults([])
    code, report = run_json(capsys, "sync", str(repo.root))  # nothing was stored: written now
    assert code == 0 and report["applied"] == {
        "succeeded": 1,
        "failed": 0,
        "text": "Applied: 1 succeeded, 0 failed",
    }
    assert report["actions"][0]["action"] == "create"


_V2_API = """\
apiVersion: gravitee.io/v1alpha1
kind: ApiDefinition
metadata:
  name: legacy
spec:
  contextRef:
    name: apim
  name: legacy
  description: A v2 API
  version: "1.0"
  proxy:
    virtual_hosts:
      - path: /legacy
    groups:
      - name: default
        endpoints:
          - name: backend
            target: https://legacy.example.com
  plans:
    - name: Free
      description: free
      security: KEY_LESS
"""


MAPI = "/management/v2/organizations/DEFAULT/environments/DEFAULT"


def _later_updated_at(emulator: RunningEmulator, minutes: int = 10) -> None:
    """APIM's updatedAt moves on with nothing changed: a console "save" of the same values, APIM's
    own bookkeeping, or a server clock ahead of ours. Nobody edited what we manage."""
    state = emulator.dump_state()
    for api in state["apis"]:
        api["updatedAt"] += minutes * 60_000
    emulator.load_state(state)


def _console_edit(emulator: RunningEmulator, **fields: object) -> None:
    """What a person does in the console: a mAPI v2 PUT of the API, with If-Match."""
    with httpx.Client(base_url=emulator.base_url, headers={"Authorization": "Bearer emulator-token"}) as http:
        (found,) = http.get(f"{MAPI}/apis").json()["data"]
        current = http.get(f"{MAPI}/apis/{found['id']}")
        body = current.json()
        keep = ("name", "apiVersion", "definitionVersion", "type", "visibility", "lifecycleState", "tags")
        update = {k: body[k] for k in (*keep, "description", "listeners", "endpointGroups") if k in body}
        update.update(fields)
        response = http.put(
            f"{MAPI}/apis/{found['id']}", json=update, headers={"If-Match": current.headers["ETag"]}
        )
        assert response.status_code == 200, response.text


def _reason(report: dict[str, object]) -> str:
    (action,) = report["actions"]  # type: ignore[misc]
    return str(action["reason"])


def test_a_git_only_change_does_not_claim_that_apim_was_edited(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, repo: Repo, emulator: RunningEmulator
) -> None:
    set_token_env(monkeypatch, emulator.base_url)
    repo.write("orders.yaml", api_yaml("orders"))
    assert run_json(capsys, "sync", str(repo.root))[0] == 0
    _later_updated_at(emulator)
    repo.write("orders.yaml", api_yaml("orders", description="Changed in git"))
    code, report = run_json(capsys, "diff", str(repo.root))
    assert code == 0 and report["actions"][0]["action"] == "update"
    assert _reason(report) == "manifest changed since last apply"
    assert "also modified" not in _reason(report) and "overwritten" not in _reason(report)


def test_a_git_change_over_a_console_edit_says_the_edit_is_overwritten(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, repo: Repo, emulator: RunningEmulator
) -> None:
    set_token_env(monkeypatch, emulator.base_url)
    repo.write("orders.yaml", api_yaml("orders"))
    assert run_json(capsys, "sync", str(repo.root))[0] == 0
    _console_edit(emulator, tags=["edited-by-hand"])
    repo.write("orders.yaml", api_yaml("orders", description="Changed in git"))
    code, report = run_json(capsys, "diff", str(repo.root))
    assert code == 0
    assert "APIM was also modified at " in _reason(report) and "those edits are overwritten" in _reason(
        report
    )
    paths = {c["path"] for c in report["actions"][0]["changes"]}
    assert paths == {"description", "tags"}


def test_full_read_does_not_call_unchanged_objects_touched(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, repo: Repo, emulator: RunningEmulator
) -> None:
    set_token_env(monkeypatch, emulator.base_url)
    repo.write("orders.yaml", api_yaml("orders"))
    repo.write("shop.yaml", app_yaml("shop"))
    assert run_json(capsys, "sync", str(repo.root))[0] == 0
    code, text = _run(capsys, "diff", str(repo.root), "--full-read", "--verbose")
    assert code == 0 and text.count("# no managed field differs\n") == 2
    _later_updated_at(emulator)
    code, text = _run(capsys, "diff", str(repo.root), "--full-read", "--verbose")
    assert code == 0 and "touched" not in text and "modified" not in text
    assert "no managed field differs (read because APIM's updatedAt " in text


def test_every_created_field_whose_value_is_hidden_is_flagged_sensitive(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    repo: Repo,
    emulator: RunningEmulator,
    tmp_path: Path,
) -> None:
    """One API's target comes from a secret, another's from a config map that holds the same string:
    the report hides both values, and flags both fields."""
    canary = "https://canary-hidden-7d1e.example.com"
    set_token_env(monkeypatch, emulator.base_url)
    secrets, configs = tmp_path / "secrets", tmp_path / "configs"
    (secrets / "default" / "backend").mkdir(parents=True)
    (secrets / "default" / "backend" / "target").write_text(canary)
    (configs / "default" / "urls").mkdir(parents=True)
    (configs / "default" / "urls" / "target").write_text(canary)
    templated = "target: https://{0}.example.com"
    repo.write(
        "a.yaml", api_yaml("a").replace(templated.format("a"), 'target: "[[ secret `backend/target` ]]"')
    )
    repo.write(
        "b.yaml", api_yaml("b").replace(templated.format("b"), 'target: "[[ configmap `urls/target` ]]"')
    )
    flags = ("--secrets-dir", str(secrets), "--config-dir", str(configs))
    code, report = run_json(capsys, "diff", str(repo.root), *flags)
    assert code == 0 and canary not in json.dumps(report)
    for action in report["actions"]:
        groups = next(c for c in action["changes"] if c["path"] == "endpointGroups")
        assert "(sensitive)" in json.dumps(groups["new"]) and groups["sensitive"] is True, action["hrid"]
        assert groups["diff"] is None
        hrid = next(c for c in action["changes"] if c["path"] == "hrid")
        assert hrid["sensitive"] is False
