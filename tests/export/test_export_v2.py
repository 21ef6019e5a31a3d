"""v2 APIs (`ApiDefinition`) are exported too, through APIM's own GKO export (mAPI v1 `.../crd`): an
environment that apim-reconciler manages, exported to an empty folder, deletes and creates nothing;
a v2 API made elsewhere keeps its ids and is adopted without a change; and no secret of a v2 API
reaches the files or the output. (GKO's v2 examples, made by GKO and adopted: test_export_gko_examples.)"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.cli import main
from reconciler.emulator import RunningEmulator
from tests.apply.helpers import actions, context_yaml, gko_examples_repo, run_json, set_token_env
from tests.export.helpers import (
    V1,
    all_text,
    apim,
    differences,
    load_yaml,
    mount_exported_secrets,
    mount_secrets,
    secret_values,
    v2_contents,
    v2_state,
)

CANARY = "CANARY-v2-endpoint-password-4c1d"


def v2_manifests(folder: Path) -> dict[str, Any]:
    return {
        p.stem: load_yaml(p)
        for p in sorted(folder.rglob("*.yaml"))
        if load_yaml(p)["kind"] == "ApiDefinition"
    }


def export_to(capsys: pytest.CaptureFixture[str], out: Path, *args: str) -> str:
    code = main(["export", "--out", str(out), *args])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    return captured.out


def documents(folder: Path) -> list[Any]:
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = True  # one of GKO's examples repeats a key
    return [
        d for p in sorted(folder.rglob("*.yml")) for d in yaml.load_all(p.read_text()) if isinstance(d, dict)
    ]


def test_an_environment_we_manage_exports_to_a_repository_that_deletes_nothing(
    tmp_path: Path, emulator: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """GKO's examples (v2 and v4) synced by apim-reconciler; the repository is lost; export gives it
    back: every object under the name its ownership record gives, so nothing is deleted or created
    next to it, and the first sync writes back what APIM holds."""
    repo, flags = gko_examples_repo(tmp_path, emulator.base_url)
    code, report = run_json(capsys, "sync", str(repo), *flags)
    assert code == 0, report["failures"]
    synced = {(a["resource"]["kind"], a["resource"]["name"]) for a in report["actions"]}
    assert sum(1 for kind, _ in synced if kind == "ApiDefinition") >= 10

    out = tmp_path / "export"
    stdout = export_to(capsys, out, "--context", "dev-ctx", str(repo))
    assert "; 0 skipped." in stdout, stdout
    exported = v2_manifests(out)
    assert {("ApiDefinition", name) for name in exported} == {s for s in synced if s[0] == "ApiDefinition"}
    originals = {d["metadata"]["name"]: d for d in documents(repo) if d.get("kind") == "ApiDefinition"}
    for name, doc in exported.items():
        # ids only where the manifest had its own: the others are derived from its name again
        for key in ("id", "crossId"):
            assert (key in doc["spec"]) == (key in originals[name]["spec"]), (name, key)
        assert "definition_context" not in doc["spec"]
    assert exported["api-with-ids"]["spec"]["crossId"] == "ebf472b5-7cbf-4765-1f74-3cb2fb289238"

    # Only the export and the context.
    shutil.copy(repo / "management_context" / "dev-ctx.yml", out / "dev-ctx.yaml")
    secrets = tmp_path / "export-secrets"
    mount_exported_secrets(emulator, out, secrets)
    flags = ["--secrets-dir", str(secrets), *flags[2:]]  # the export's Secrets instead of the examples'
    before = v2_contents(emulator)
    code, report = run_json(capsys, "diff", str(out), *flags)
    assert {(a["resource"]["kind"], a["resource"]["name"]) for a in report["actions"]} == synced
    # Each manifest is a new text of what APIM holds (paths as APIM stores them, no GKO-only `local`):
    # its hash differs from the record's, so it is re-applied once, changing no field.
    assert set(actions(report).values()) <= {"update", "unchanged"}, actions(report)
    assert [a["changes"] for a in report["actions"] if a["changes"]] == []
    code, report = run_json(capsys, "sync", str(out), *flags)
    assert code == 0, report["failures"]
    assert differences(before, v2_contents(emulator)) == []
    code, report = run_json(capsys, "diff", str(out), *flags, "--exit-code")
    assert code == 0 and set(actions(report).values()) == {"unchanged"}, actions(report)


def test_a_v2_api_made_elsewhere_keeps_its_ids_and_loses_its_secrets(
    tmp_path: Path,
    emulator: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Imported as an old GKO or a script would: ids of its own, a password in an endpoint's header."""
    set_token_env(monkeypatch, emulator.base_url)
    context = tmp_path / "repo" / "contexts" / "apim.yaml"
    context.parent.mkdir(parents=True)
    context.write_text(context_yaml(emulator.base_url))
    body = {
        "id": "6c1f3a2e-0000-4000-8000-00000000c0de",
        "crossId": "6c1f3a2e-0000-4000-8000-00000000c05e",
        "name": "Old v2",
        "version": "1",
        "description": "made by GKO long ago",
        "lifecycle_state": "PUBLISHED",
        "state": "STARTED",
        "definition_context": {"origin": "kubernetes", "mode": "fully_managed", "syncFrom": "management"},
        "proxy": {
            "virtual_hosts": [{"path": "/old"}],
            "groups": [
                {
                    "name": "g",
                    "endpoints": [
                        {
                            "name": "e",
                            "target": "https://old.internal",
                            "headers": [{"name": "Authorization", "value": f"Basic {CANARY}"}],
                        }
                    ],
                }
            ],
        },
        "plans": [
            {
                "id": "p1",
                "crossId": "c1",
                "name": "Free",
                "description": "open to all",
                "security": "KEY_LESS",
                "status": "PUBLISHED",
                "type": "API",
                "validation": "AUTO",
            }
        ],
    }
    with apim(emulator) as client:
        assert client.put(f"{V1}/apis/import-crd", json=body).status_code == 200
    before = v2_contents(emulator)

    out, secrets = tmp_path / "export", tmp_path / "secrets"
    stdout = export_to(capsys, out, "--context", str(context), "--log-level", "debug")
    assert CANARY not in all_text(out) and CANARY not in stdout
    doc = load_yaml(out / "apis" / "old-v2.yaml")
    spec = doc["spec"]
    assert (doc["kind"], doc["metadata"]) == ("ApiDefinition", {"name": "old-v2", "namespace": "default"})
    assert (spec["crossId"], spec["id"]) == (body["crossId"], body["id"])  # not derivable from the name
    assert [(p["id"], p["crossId"]) for p in spec["plans"]] == [("p1", "c1")]
    assert spec["lifecycle_state"] == "PUBLISHED"  # from the listing: APIM's export leaves it out
    values = secret_values(spec, v2_state(emulator, body["id"]))
    assert list(values.values()) == [f"Basic {CANARY}"]
    [(name, key)] = values
    assert f"secret default/{name} key {key}" in stdout
    mount_secrets(secrets, "default", values)

    shutil.copy(context, out / "apim.yaml")
    code, report = run_json(capsys, "sync", str(out), "--adopt", "--secrets-dir", str(secrets))
    assert code == 0 and actions(report) == {"old-v2": "update"}, report["failures"]
    code, report = run_json(capsys, "diff", str(out), "--secrets-dir", str(secrets), "--exit-code")
    assert code == 0 and actions(report) == {"old-v2": "unchanged"}
    assert differences(before, v2_contents(emulator)) == []  # the same object, ids included, adopted
