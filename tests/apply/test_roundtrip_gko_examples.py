"""Every GKO example manifest survives a round trip through APIM with no diff (LESSONS: false diffs).

The examples are synced into the emulator (their ManagementContext pointed at it; the Secrets and
ConfigMaps they ship written into mounted-secret folders, as a cluster would mount them), then
planned again: every resource must be unchanged, including with a full read of each one.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import actions, run_json
from tests.reference import GKO_EXAMPLES


def mount(kind: str, root: Path, examples: Path) -> None:
    """Write every example Secret (or ConfigMap) as <root>/<name>/<key>, like a volume mount."""
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = True  # one example repeats a key (with the same value) in an API
    for path in examples.rglob("*.yml"):
        for doc in yaml.load_all(path.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") != kind:
                continue
            folder = root / doc["metadata"]["name"]
            folder.mkdir(parents=True, exist_ok=True)
            for key, value in (doc.get("data") or {}).items():
                raw = base64.b64decode(value) if kind == "Secret" else value.encode()
                (folder / key).write_bytes(raw)
            for key, value in (doc.get("stringData") or {}).items():
                (folder / key).write_text(value)


def test_every_example_round_trips_without_a_diff(
    tmp_path: Path, emulator: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    if not GKO_EXAMPLES.is_dir():
        pytest.skip(f"no GKO examples at {GKO_EXAMPLES}")
    repo = tmp_path / "repo"
    shutil.copytree(GKO_EXAMPLES, repo)
    context = repo / "management_context" / "dev-ctx.yml"
    context.write_text(context.read_text().replace("http://localhost:30083", emulator.base_url))
    mount("Secret", tmp_path / "secrets", GKO_EXAMPLES)
    mount("ConfigMap", tmp_path / "config", GKO_EXAMPLES)
    flags = ["--secrets-dir", str(tmp_path / "secrets"), "--config-dir", str(tmp_path / "config")]

    code, report = run_json(capsys, "sync", str(repo), *flags)
    failed = [
        (a["resource"]["name"], a["outcome"])
        for a in report["actions"]
        if not a.get("outcome", {"ok": True})["ok"]
    ]
    assert code == 0, (failed, report["problems"], report["failures"])
    created = actions(report)
    assert len(created) >= 40 and set(created.values()) == {"create"}

    for extra in ([], ["--full-read"]):
        code, report = run_json(capsys, "diff", str(repo), *flags, "--exit-code", *extra)
        changed = {
            a["resource"]["name"]: a["changes"] for a in report["actions"] if a["action"] != "unchanged"
        }
        assert code == 0 and not changed, changed
