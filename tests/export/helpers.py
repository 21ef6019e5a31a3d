"""Helpers of the export tests: seeding APIM the way the console or GKO would, and the secrets to mount."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from ruamel.yaml import YAML

from reconciler.emulator import RunningEmulator
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
