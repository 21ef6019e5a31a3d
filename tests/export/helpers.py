"""Helpers of the export tests: seeding APIM the way the console or GKO would, and the secrets to mount."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from ruamel.yaml import YAML

from reconciler.emulator import RunningEmulator
from reconciler.plan import ids
from reconciler.plan.ownership import OWNERSHIP_KEY

AUTO = "/automation/organizations/DEFAULT/environments/DEFAULT"
V2 = "/management/v2/organizations/DEFAULT/environments/DEFAULT"
V1 = "/management/organizations/DEFAULT/environments/DEFAULT"
_TEMPLATE = re.compile(r"^\[\[ secret `(?P<name>[^/`]+)/(?P<key>[^`]+)` \]\]$")


def apim(emulator: RunningEmulator) -> httpx.Client:
    return httpx.Client(base_url=emulator.base_url, auth=("admin", "admin"), timeout=10)


def strip_ownership(emulator: RunningEmulator) -> int:
    """Remove our ownership entry from every object, as if GKO or the console had written them."""
    state = emulator.dump_state()
    removed = 0
    for record in [*state["apis"], *state["applications"]]:
        entries = record["spec"].get("metadata")
        if isinstance(entries, list):
            kept = [m for m in entries if m.get("key") != OWNERSHIP_KEY]
            removed += len(entries) - len(kept)
            record["spec"]["metadata"] = kept
    emulator.load_state(state)
    return removed


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text())


def secret_values(exported: Any, actual: Any) -> dict[tuple[str, str], str]:
    """For every secret template of an exported spec, the value APIM holds at the same place.

    Walks both in parallel: maps by key, lists by index, and plans/pages (a map in the manifest, a
    list in APIM) by HRID. This is how a test knows what to mount without the export revealing it.
    """
    found: dict[tuple[str, str], str] = {}

    def walk(mine: Any, theirs: Any, parent: str) -> None:
        if isinstance(mine, str):
            match = _TEMPLATE.match(mine)
            if match:
                assert isinstance(theirs, str), (mine, theirs)
                found[(match["name"], match["key"])] = theirs
        elif isinstance(mine, Mapping):
            if parent in ("plans", "pages") and isinstance(theirs, list):
                theirs = {item.get("hrid"): item for item in theirs}
            for key, value in mine.items():
                if isinstance(theirs, Mapping) and key in theirs:
                    walk(value, theirs[key], str(key))
        elif isinstance(mine, list) and isinstance(theirs, list):
            for a, b in zip(mine, theirs, strict=False):
                walk(a, b, parent)

    walk(exported, actual, "")
    return found


def mount_secrets(root: Path, namespace: str, values: Mapping[tuple[str, str], str]) -> None:
    for (name, key), value in values.items():
        folder = root / namespace / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / key).write_text(value)


def all_text(folder: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(folder.rglob("*")) if p.is_file())


def v2_state(emulator: RunningEmulator, api_id: str) -> Any:
    with apim(emulator) as client:
        response = client.get(f"{V1}/apis/{api_id}/crd")
        assert response.status_code == 200, response.text
    return load_yaml_text(response.text)["spec"]


def load_yaml_text(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def v2_contents(emulator: RunningEmulator) -> dict[str, Any]:
    """Every v2 API as APIM exports it, ids included, without our ownership record (and without empty
    lists and maps: the emulator keeps a body as sent, where APIM's model holds an empty one anyway)."""
    out = {}
    for api in emulator.dump_state()["apis"]:
        if api["definitionVersion"] == "V2":
            spec = v2_state(emulator, api["id"])
            spec["metadata"] = [m for m in spec.get("metadata", []) if m["key"] != OWNERSHIP_KEY]
            out[api["id"]] = without_empties(spec)
    return out


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as `path: before -> after` lines."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            d
            for k in sorted(set(before) | set(after))
            for d in differences(before.get(k), after.get(k), f"{path}.{k}")
        ]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            d
            for i, (a, b) in enumerate(zip(before, after, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    return [] if before == after else [f"{path}: {before!r} -> {after!r}"]


def without_empties(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {k: without_empties(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ([], {})}
    if isinstance(value, list):
        return [without_empties(v) for v in value]
    return value


def mount_exported_secrets(emulator: RunningEmulator, out: Path, secrets: Path) -> None:
    """The values that the export replaced by templates, mounted as the user would after reading its
    output: read from APIM where each template stands (v4 APIs and applications from the Automation
    API, v2 APIs from APIM's export)."""
    by_cross = {api["crossId"]: api["id"] for api in emulator.dump_state()["apis"]}
    with apim(emulator) as client:
        for path in sorted(out.rglob("*.yaml")):
            doc = load_yaml(path)
            spec, name = doc["spec"], doc["metadata"]["name"]
            if doc["kind"] == "ApiDefinition":
                state = v2_state(emulator, by_cross[spec.get("crossId") or ids.gko_uuid(f"default/{name}")])
            elif doc["kind"] in ("ApiV4Definition", "Application"):
                folder = "apis" if doc["kind"] == "ApiV4Definition" else "applications"
                state = client.get(f"{AUTO}/{folder}/{spec.get('hrid') or 'default-' + name}").json()
            else:
                continue
            mount_secrets(secrets, "default", secret_values(spec, state))
