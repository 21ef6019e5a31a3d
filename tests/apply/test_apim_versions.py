"""The key flows on every APIM version the emulator plays, and a clear refusal below the floor.

APIM has had the Automation API since 4.8.0, applications in it since 4.9.0, `expands=metadata` on its
API listing since 4.9.18, 4.10.13, 4.11.5 and 4.12.0, `hridContainsUUID` since 4.12.0 (`legacy`
before): docs/emulator-fidelity.md has the source of each. The supported range is where all of it
exists; below, check-context and sync say so instead of planning blind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli import main
from reconciler.contexts.check import check_contexts
from reconciler.emulator import RunningEmulator
from reconciler.manifests import LoadOptions, load_manifests
from reconciler.secrets import SecretStore
from tests.apply.helpers import Repo, actions, api_yaml, app_yaml, put_unowned_api, run_json, set_token_env

SUPPORTED = ["4.9.18", "4.10.13", "4.11.5", "4.12.0", "4.13.0"]
BELOW = ["4.8.32", "4.9.17", "4.11.4"]


def sync(capsys: pytest.CaptureFixture[str], repo: Repo, *flags: str) -> tuple[int, dict[str, Any]]:
    return run_json(capsys, "sync", str(repo.root), *flags)


def console_edit(emulator: RunningEmulator, name: str, description: str) -> None:
    """What a console user does: mAPI v2 GET, then PUT with the ETag."""
    mapi = "/management/v2/organizations/DEFAULT/environments/DEFAULT"
    with httpx.Client(
        base_url=emulator.base_url, headers={"Authorization": "Bearer emulator-token"}
    ) as client:
        (item,) = [
            i for i in client.get(f"{mapi}/apis", params={"perPage": 100}).json()["data"] if i["name"] == name
        ]
        current = client.get(f"{mapi}/apis/{item['id']}")
        body = {
            k: v
            for k, v in current.json().items()
            if k in ("name", "apiVersion", "definitionVersion", "type", "listeners", "endpointGroups")
        }
        body["description"] = description
        response = client.put(
            f"{mapi}/apis/{item['id']}", json=body, headers={"If-Match": current.headers["ETag"]}
        )
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("version", SUPPORTED)
def test_create_noop_drift_adopt_and_prune_on_every_supported_version(
    version: str,
    tmp_path: Path,
    make_emulator: Callable[..., RunningEmulator],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = make_emulator(apim_version=version)
    set_token_env(monkeypatch, emulator.base_url)
    repo = Repo(tmp_path / "repo", emulator.base_url)
    for name in ("a", "b", "c", "d"):
        repo.write(f"{name}.yaml", api_yaml(name, description=f"<b>{name}</b> API"))  # HTML: sanitized
    repo.write("app.yaml", app_yaml("shop"))
    code, report = sync(capsys, repo)
    assert code == 0, report
    code, report = run_json(capsys, "diff", str(repo.root), "--full-read", "--exit-code")
    assert code == 0, report  # what APIM stores (paths, defaults, sanitized text) is no difference

    console_edit(emulator, "a", "edited in the console")
    code, report = sync(capsys, repo)
    assert code == 0 and actions(report)["a"] == "drifted", report
    code, report = run_json(capsys, "diff", str(repo.root), "--exit-code")
    assert code == 0, report

    put_unowned_api(emulator.base_url, "default-e", "/e")
    repo.write("e.yaml", api_yaml("e"))
    code, report = sync(capsys, repo)
    assert code == 1 and actions(report)["e"] == "conflict"
    code, report = sync(capsys, repo, "--adopt")
    assert code == 0 and actions(report)["e"] == "update"

    repo.remove("d.yaml")
    code, report = sync(capsys, repo)
    assert code == 0 and actions(report)["d"] == "delete"
    code, report = run_json(capsys, "diff", str(repo.root), "--full-read", "--exit-code")
    assert code == 0, report


@pytest.mark.parametrize("version", BELOW)
def test_below_the_floor_check_context_and_sync_refuse_clearly(
    version: str,
    tmp_path: Path,
    make_emulator: Callable[..., RunningEmulator],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = make_emulator(apim_version=version)
    set_token_env(monkeypatch, emulator.base_url)
    if version != "4.8.32":  # 4.8's Automation API takes another body: the console API comes first
        put_unowned_api(emulator.base_url, "default-console", "/console")
    repo = Repo(tmp_path / "repo", emulator.base_url)
    repo.write("a.yaml", api_yaml("a"))
    manifests = load_manifests([str(repo.root)], LoadOptions())
    (result,) = check_contexts(manifests.resources, SecretStore(None))
    assert not result.ok and "is needed" in result.message, result.message
    capsys.readouterr()  # structlog's default logger (not configured by a CLI run yet) wrote there
    code, report = sync(capsys, repo)
    assert code == 1
    assert not any(a.get("outcome", {}).get("ok") for a in report["actions"])
    if version != "4.8.32":  # 4.8 refuses the write itself (its preview contract): nothing is applied
        (failure,) = report["failures"]
        assert "4.9.18" in failure["message"] and "nothing is planned" in failure["message"]


def test_an_account_without_organization_admin_is_not_enough(
    tmp_path: Path, make_emulator: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    users = {
        "organizations": [{"id": "DEFAULT", "environments": [{"id": "DEFAULT", "name": "Default"}]}],
        "users": [
            {
                "username": "publisher",
                "password": "publisher-password-1",
                "organizations": ["DEFAULT"],
                "roles": {"ORGANIZATION:DEFAULT": ["USER"], "ENVIRONMENT:DEFAULT": ["API_PUBLISHER"]},
                "tokens": ["publisher-token-1234"],
            }
        ],
    }
    emulator = make_emulator(users=users)
    set_token_env(monkeypatch, emulator.base_url, token="publisher-token-1234")
    repo = Repo(tmp_path / "repo", emulator.base_url)
    manifests = load_manifests([str(repo.root)], LoadOptions())
    (result,) = check_contexts(manifests.resources, SecretStore(None))
    assert not result.ok and "not ADMIN of the organization" in result.message
    assert result.capabilities is not None and not result.capabilities.organization_admin


def test_check_context_names_the_permissions_it_found(
    tmp_path: Path, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_token_env(monkeypatch, emulator.base_url)
    repo = Repo(tmp_path / "repo", emulator.base_url)
    code = main(["check-context", str(repo.root), "--output", "json"])
    assert code == 0
