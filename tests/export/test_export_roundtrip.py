"""The acceptance test of adoption: objects made in APIM by others are exported, then adopted with no
change but our ownership record; and the export never writes a secret."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli import main
from reconciler.emulator import RunningEmulator
from reconciler.plan import ids
from tests.apply.helpers import actions, context_yaml, run_json, set_token_env
from tests.export.helpers import AUTO, V1, V2, all_text, apim, load_yaml, mount_secrets, secret_values

CANARIES = ("CANARY-endpoint-pw-7f3a", "CANARY-bearer-9b1c", "CANARY-resource-2d4e", "CANARY-property-5e6f")


def orders_spec() -> dict[str, Any]:
    """A v4 API as a console user or GKO would have built it, with credentials in its configuration."""
    return {
        "hrid": "default-orders",
        "name": "Orders",
        "version": "2.1",
        "type": "PROXY",
        "description": "Order management,\nbehind the gateway.\n",
        "state": "STARTED",
        "lifecycleState": "PUBLISHED",
        "visibility": "PUBLIC",
        "labels": ["shop", "core"],
        "tags": ["internal"],
        "listeners": [
            {
                "type": "HTTP",
                "paths": [{"path": "/orders"}],
                "entrypoints": [{"type": "http-proxy", "qos": "AUTO"}],
            }
        ],
        "endpointGroups": [
            {
                "name": "backends",
                "type": "http-proxy",
                "endpoints": [
                    {
                        "name": "primary",
                        "type": "http-proxy",
                        "weight": 1,
                        "inheritConfiguration": False,
                        "configuration": {
                            "target": "https://orders.internal",
                            "http": {"password": CANARIES[0], "username": "svc-orders"},
                            "headers": [{"name": "Authorization", "value": f"Bearer {CANARIES[1]}"}],
                        },
                    }
                ],
            }
        ],
        "resources": [
            {
                "name": "idp",
                "type": "oauth2",
                "enabled": True,
                "configuration": {"clientId": "orders", "clientSecret": CANARIES[2]},
            }
        ],
        "properties": [
            {"key": "db-password", "value": CANARIES[3], "encrypted": True},
            {"key": "region", "value": "eu-west-1", "encrypted": False},
        ],
        "flows": [
            {
                "name": "all",
                "enabled": True,
                "request": [
                    {"name": "Rate", "enabled": True, "policy": "rate-limit", "configuration": {"n": 5}}
                ],
            }
        ],
        "plans": [
            {
                "hrid": "keyless",
                "name": "Free",
                "security": {"type": "KEY_LESS"},
                "status": "PUBLISHED",
                "type": "API",
                "mode": "STANDARD",
                "validation": "AUTO",
            },
            {
                "hrid": "gold",
                "name": "Gold",
                "security": {"type": "API_KEY"},
                "status": "PUBLISHED",
                "type": "API",
                "mode": "STANDARD",
                "validation": "MANUAL",
            },
        ],
        "pages": [
            # PageV4 requires a visibility (APIM refuses a page without one).
            {"hrid": "docs", "name": "Docs", "type": "FOLDER", "published": True, "visibility": "PUBLIC"},
            {
                "hrid": "readme",
                "name": "Readme",
                "type": "MARKDOWN",
                "content": "# Orders\n",
                "parentHrid": "docs",
                "visibility": "PUBLIC",
            },
        ],
        "metadata": [{"key": "team", "name": "team", "format": "STRING", "value": "payments"}],
    }


def billing_spec() -> dict[str, Any]:
    """Made through the Automation API with an HRID that is not `<namespace>-<name>`."""
    return {
        "hrid": "billing",
        "name": "Billing API",
        "version": "1",
        "type": "PROXY",
        "state": "STOPPED",
        "lifecycleState": "UNPUBLISHED",
        "listeners": [
            {"type": "HTTP", "paths": [{"path": "/billing"}], "entrypoints": [{"type": "http-proxy"}]}
        ],
        "endpointGroups": [
            {
                "name": "default",
                "type": "http-proxy",
                "endpoints": [{"name": "d", "type": "http-proxy", "configuration": {"target": "https://b"}}],
            }
        ],
    }


def legacy_crd(org: str = "DEFAULT", env: str = "DEFAULT") -> dict[str, Any]:
    """Written through mAPI v2 `_import/crd`, the way GKO did before APIM had the Automation API."""
    hrid = "default-catalog"
    cross = ids.cross_id(org, hrid)
    return {
        "id": ids.name_uuid(cross + env),
        "crossId": cross,
        "hrid": hrid,
        "name": "Catalog",
        "version": "3",
        "type": "PROXY",
        "state": "STARTED",
        "lifecycleState": "UNPUBLISHED",
        "definitionContext": {"origin": "kubernetes", "mode": "fully_managed", "syncFrom": "management"},
        "listeners": [
            {"type": "HTTP", "paths": [{"path": "/catalog"}], "entrypoints": [{"type": "http-proxy"}]}
        ],
        "endpointGroups": [
            {
                "name": "default",
                "type": "http-proxy",
                "endpoints": [{"name": "d", "type": "http-proxy", "configuration": {"target": "https://c"}}],
            }
        ],
        "plans": {
            "open": {
                "id": ids.plan_id(org, env, hrid, "open"),
                "name": "Open",
                "security": {"type": "KEY_LESS"},
                "status": "PUBLISHED",
                "type": "API",
                "mode": "STANDARD",
                "validation": "AUTO",
            }
        },
    }


def ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text


def seed(emulator: RunningEmulator) -> None:
    with apim(emulator) as client:
        for body in (orders_spec(), billing_spec()):
            ok(client.put(f"{AUTO}/apis", json=body))
        ok(client.put(f"{V2}/apis/_import/crd", json=legacy_crd()))
        apps = [
            {
                "hrid": "default-mobile",
                "name": "Mobile",
                "description": "The mobile app",
                "settings": {"app": {"type": "MOBILE", "clientId": "mobile-client"}},
                "metadata": [{"key": "tier", "name": "tier", "format": "STRING", "value": "gold"}],
            },
            {
                "hrid": "default-partner-portal",
                "name": "Partner portal",
                "description": "For partners",
                "settings": {
                    "oauth": {
                        "applicationType": "web",
                        "grantTypes": ["authorization_code"],
                        "redirectUris": ["https://partners.example.com/cb"],
                    }
                },
            },
        ]
        for app in apps:
            ok(client.put(f"{AUTO}/applications", json=app))
        # Made in the console long ago: no HRID, skipped with a reason. And a v2 API, exported.
        console_app = {
            "name": "Console app",
            "description": "made by hand",
            "settings": {"app": {"type": "WEB"}},
        }
        ok(client.put(f"{V2}/applications/_import/crd", json=console_app))
        v2 = {  # ApiCRDEntity requires id, crossId, name, version and description
            "id": "6c1f3a2e-0000-4000-8000-00000000c0de",
            "crossId": "6c1f3a2e-0000-4000-8000-00000000c05e",
            "name": "Old v2",
            "version": "1",
            "description": "made by GKO long ago",
            "proxy": {"virtual_hosts": [{"path": "/old"}], "groups": [{"name": "g", "endpoints": []}]},
        }
        ok(client.put(f"{V1}/apis/import-crd", json=v2))


@pytest.fixture
def context_file(tmp_path: Path, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    set_token_env(monkeypatch, emulator.base_url)
    path = tmp_path / "repo" / "contexts" / "apim.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(context_yaml(emulator.base_url))
    return path


def export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["export", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_export_then_adopt_changes_nothing_but_ownership(
    tmp_path: Path, emulator: RunningEmulator, context_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(emulator)
    out, secrets = tmp_path / "export", tmp_path / "secrets"
    code, stdout, stderr = export(
        capsys,
        "--context",
        str(context_file),
        "--out",
        str(out),
        "--write-context",
        "--secrets-dir",
        str(secrets),
        "--log-level",
        "debug",  # not even in debug logs
    )
    assert code == 0, stdout + stderr
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.yaml"))
    assert files == [
        "apis/billing-api.yaml",
        "apis/catalog.yaml",
        "apis/old-v2.yaml",
        "apis/orders.yaml",
        "applications/mobile.yaml",
        "applications/partner-portal.yaml",
        "contexts/apim.yaml",
    ]
    assert "skipped API" not in stdout and "skipped Application 'Console app'" in stdout
    old_v2 = load_yaml(out / "apis" / "old-v2.yaml")
    assert (
        old_v2["kind"] == "ApiDefinition"
        and old_v2["spec"]["crossId"] == "6c1f3a2e-0000-4000-8000-00000000c05e"
    )

    # Secrets: templates in the files, names and keys on stdout, values nowhere.
    for canary in CANARIES:
        assert canary not in all_text(out) and canary not in stdout and canary not in stderr
    orders = load_yaml(out / "apis" / "orders.yaml")
    assert orders["metadata"] == {"name": "orders", "namespace": "default"}
    assert "hrid" not in orders["spec"] and "id" not in orders["spec"]
    assert set(orders["spec"]["plans"]) == {"keyless", "gold"}
    with apim(emulator) as client:
        state = client.get(f"{AUTO}/apis/default-orders").json()
    values = secret_values(orders["spec"], state)
    assert sorted(values.values()) == sorted([CANARIES[0], f"Bearer {CANARIES[1]}", CANARIES[2], CANARIES[3]])
    for name, key in values:
        assert f"secret default/{name} key {key}" in stdout
    assert load_yaml(out / "apis" / "billing-api.yaml")["spec"]["hrid"] == "billing"
    assert load_yaml(out / "applications" / "partner-portal.yaml")["spec"]["settings"] == {
        "oauth": {
            "applicationType": "WEB",
            "grantTypes": ["authorization_code"],
            "redirectUris": ["https://partners.example.com/cb"],
        }
    }
    assert main(["validate", str(out)]) == 0
    capsys.readouterr()

    mount_secrets(secrets, "default", values)
    flags = ["--secrets-dir", str(secrets)]

    # Without --adopt: every object is a conflict, and APIM is left exactly as it was.
    before = emulator.dump_state()
    code, report = run_json(capsys, "sync", str(out), *flags)
    assert code == 1
    assert set(actions(report).values()) == {"conflict"}, actions(report)
    assert emulator.dump_state() == before

    # With --adopt: six updates that only write the ownership record.
    code, report = run_json(capsys, "sync", str(out), "--adopt", *flags)
    assert code == 0, report["failures"]
    assert actions(report) == {
        "billing-api": "update",
        "catalog": "update",
        "old-v2": "update",
        "orders": "update",
        "mobile": "update",
        "partner-portal": "update",
    }
    changed = {a["resource"]["name"]: a["changes"] for a in report["actions"] if a["changes"]}
    assert changed == {}, json.dumps(changed, indent=1)
    assert all(a["outcome"]["ok"] for a in report["actions"])

    for extra in ([], ["--full-read"]):
        code, report = run_json(capsys, "diff", str(out), *flags, "--exit-code", *extra)
        assert code == 0, actions(report)
        assert set(actions(report).values()) == {"unchanged"}
    # The adopted objects kept their ids: nothing was created next to them.
    assert len(emulator.dump_state()["apis"]) == len(before["apis"])


def test_context_by_name_and_overwrite_refusal(
    tmp_path: Path, emulator: RunningEmulator, context_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(emulator)
    out = tmp_path / "export"
    repo = str(context_file.parent.parent)
    code, _, stderr = export(capsys, "--context", "apim", "--out", str(out), repo)
    assert code == 0, stderr
    orders = out / "apis" / "orders.yaml"
    orders.write_text("# edited by hand\n")
    code, _, stderr = export(capsys, "--context", "default/apim", "--out", str(out), repo)
    assert code == 1
    assert "refusing to overwrite" in stderr and "--force" in stderr
    assert orders.read_text() == "# edited by hand\n"  # nothing written at all
    assert not (out / "contexts").exists()
    code, _, stderr = export(capsys, "--context", "apim", "--out", str(out), repo, "--force")
    assert code == 0, stderr
    assert load_yaml(orders)["kind"] == "ApiV4Definition"

    code, _, stderr = export(capsys, "--context", "nope", "--out", str(tmp_path / "x"), repo)
    assert code == 1 and "no ManagementContext named 'nope'" in stderr


def test_second_export_of_an_unchanged_environment_is_identical(
    tmp_path: Path, emulator: RunningEmulator, context_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(emulator)
    first, second = tmp_path / "a", tmp_path / "b"
    assert export(capsys, "--context", str(context_file), "--out", str(first))[0] == 0
    assert export(capsys, "--context", str(context_file), "--out", str(second))[0] == 0
    shutil.rmtree(first / "contexts", ignore_errors=True)
    assert all_text(first) == all_text(second)


def test_export_into_another_namespace_keeps_every_hrid(
    tmp_path: Path, emulator: RunningEmulator, context_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(emulator)
    out, secrets = tmp_path / "export", tmp_path / "secrets"
    code, stdout, _ = export(
        capsys, "--context", str(context_file), "--out", str(out), "--namespace", "shop", "--write-context"
    )
    assert code == 0, stdout
    orders = load_yaml(out / "apis" / "orders.yaml")  # HRID default-orders: not shop-*, so named by slug
    assert orders["metadata"] == {"name": "orders", "namespace": "shop"}
    assert orders["spec"]["hrid"] == "default-orders"
    assert orders["spec"]["contextRef"] == {"name": "apim", "namespace": "default"}
    with apim(emulator) as client:
        state = client.get(f"{AUTO}/apis/default-orders").json()
    mount_secrets(secrets, "shop", secret_values(orders["spec"], state))

    code, report = run_json(capsys, "sync", str(out), "--adopt", "--secrets-dir", str(secrets))
    assert code == 0, report["failures"]
    assert set(actions(report).values()) == {"update"}
    assert [a["changes"] for a in report["actions"] if a["changes"]] == []
    code, report = run_json(capsys, "diff", str(out), "--secrets-dir", str(secrets), "--exit-code")
    assert code == 0, actions(report)
