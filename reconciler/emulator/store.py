"""The emulator's single store: every endpoint family (Automation API, mAPI v2, mAPI v1) reads and
writes the same records, so an API created one way is visible the others.

Records are kept per (organization, environment) with the indexes the endpoints need so that no request
is O(N) in Python: by id, HRID, crossId and listener path, plus a name-sorted id list for paging that is
rebuilt lazily only after a write. All access happens under :attr:`Store.lock` (handlers run on the event
loop; the Python API of :class:`~reconciler.emulator.server.RunningEmulator` runs on other threads).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_FORMAT = "apim-emulator-state/1"


def normalize_path(path: str) -> str:
    """APIM's sanitized context path: leading and trailing ``/``, no ``//``."""
    parts = [p for p in path.strip().split("/") if p]
    return "/" + "".join(p + "/" for p in parts)


@dataclass
class ApiRecord:
    """One API. ``spec`` is Automation-shaped (``ApiV4Spec``) for V4, the v2 definition for V2."""

    id: str
    cross_id: str
    hrid: str | None
    org_id: str
    env_id: str
    definition_version: str
    spec: dict[str, Any]
    origin: str = "KUBERNETES"
    sync_from: str = "MANAGEMENT"
    created_at: int = 0
    updated_at: int = 0
    deployed_at: int | None = None
    plan_cross_ids: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    def listener_paths(self) -> list[tuple[str, str]]:
        """(host, sanitized path) of every HTTP entry point, the keys of the path-clash rule."""
        out: list[tuple[str, str]] = []
        if self.definition_version == "V4":
            for listener in self.spec.get("listeners") or []:
                if isinstance(listener, dict) and listener.get("type") == "HTTP":
                    for p in listener.get("paths") or []:
                        if isinstance(p, dict) and isinstance(p.get("path", "/"), str):
                            out.append((str(p.get("host") or ""), normalize_path(p.get("path", "/"))))
        else:
            proxy = self.spec.get("proxy") or {}
            for vh in proxy.get("virtual_hosts") or []:
                if isinstance(vh, dict):
                    out.append((str(vh.get("host") or ""), normalize_path(str(vh.get("path") or "/"))))
            if not out and proxy.get("context_path"):
                out.append(("", normalize_path(str(proxy["context_path"]))))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "crossId": self.cross_id,
            "hrid": self.hrid,
            "organizationId": self.org_id,
            "environmentId": self.env_id,
            "definitionVersion": self.definition_version,
            "origin": self.origin,
            "syncFrom": self.sync_from,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "deployedAt": self.deployed_at,
            "planCrossIds": self.plan_cross_ids,
            "spec": self.spec,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> ApiRecord:
        return cls(
            id=obj["id"],
            cross_id=obj["crossId"],
            hrid=obj.get("hrid"),
            org_id=obj["organizationId"],
            env_id=obj["environmentId"],
            definition_version=obj.get("definitionVersion", "V4"),
            spec=obj["spec"],
            origin=obj.get("origin", "KUBERNETES"),
            sync_from=obj.get("syncFrom", "MANAGEMENT"),
            created_at=int(obj.get("createdAt", 0)),
            updated_at=int(obj.get("updatedAt", 0)),
            deployed_at=obj.get("deployedAt"),
            plan_cross_ids=dict(obj.get("planCrossIds") or {}),
        )


@dataclass
class ApplicationRecord:
    """One application. ``spec`` is Automation-shaped (``ApplicationSpec``)."""

    id: str
    hrid: str | None
    org_id: str
    env_id: str
    spec: dict[str, Any]
    origin: str = "KUBERNETES"
    created_at: int = 0
    updated_at: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "hrid": self.hrid,
            "organizationId": self.org_id,
            "environmentId": self.env_id,
            "origin": self.origin,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "spec": self.spec,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> ApplicationRecord:
        return cls(
            id=obj["id"],
            hrid=obj.get("hrid"),
            org_id=obj["organizationId"],
            env_id=obj["environmentId"],
            spec=obj["spec"],
            origin=obj.get("origin", "KUBERNETES"),
            created_at=int(obj.get("createdAt", 0)),
            updated_at=int(obj.get("updatedAt", 0)),
        )


class EnvironmentData:
    """Records of one environment and their indexes."""

    def __init__(self) -> None:
        self.apis: dict[str, ApiRecord] = {}
        self.api_by_hrid: dict[str, str] = {}
        self.api_by_cross_id: dict[str, str] = {}
        self.api_by_path: dict[tuple[str, str], str] = {}
        self.apps: dict[str, ApplicationRecord] = {}
        self.app_by_hrid: dict[str, str] = {}
        self._sorted_api_ids: list[str] | None = None
        self._sorted_app_ids: list[str] | None = None

    # -- APIs -------------------------------------------------------------------------------------
    def put_api(self, record: ApiRecord) -> None:
        self.remove_api(record.id)
        self.apis[record.id] = record
        if record.hrid:
            self.api_by_hrid[record.hrid] = record.id
        self.api_by_cross_id[record.cross_id] = record.id
        for key in record.listener_paths():
            self.api_by_path.setdefault(key, record.id)
        self._sorted_api_ids = None

    def remove_api(self, api_id: str) -> ApiRecord | None:
        old = self.apis.pop(api_id, None)
        if old is None:
            return None
        if old.hrid and self.api_by_hrid.get(old.hrid) == api_id:
            del self.api_by_hrid[old.hrid]
        if self.api_by_cross_id.get(old.cross_id) == api_id:
            del self.api_by_cross_id[old.cross_id]
        for key in old.listener_paths():
            if self.api_by_path.get(key) == api_id:
                del self.api_by_path[key]
        self._sorted_api_ids = None
        return old

    def path_clashes(self, record: ApiRecord) -> list[str]:
        """Sanitized paths of ``record`` already used by another API of this environment."""
        out: list[str] = []
        for key in record.listener_paths():
            owner = self.api_by_path.get(key)
            if owner is not None and owner != record.id and key[1] not in out:
                out.append(key[1])
        return out

    def sorted_api_ids(self) -> list[str]:
        """Ids ordered by name (case-insensitive) then id, as the console lists them."""
        if self._sorted_api_ids is None:
            self._sorted_api_ids = sorted(self.apis, key=lambda i: (self.apis[i].name.lower(), i))
        return self._sorted_api_ids

    # -- applications -----------------------------------------------------------------------------
    def put_app(self, record: ApplicationRecord) -> None:
        self.remove_app(record.id)
        self.apps[record.id] = record
        if record.hrid:
            self.app_by_hrid[record.hrid] = record.id
        self._sorted_app_ids = None

    def remove_app(self, app_id: str) -> ApplicationRecord | None:
        old = self.apps.pop(app_id, None)
        if old is not None and old.hrid and self.app_by_hrid.get(old.hrid) == app_id:
            del self.app_by_hrid[old.hrid]
        self._sorted_app_ids = None
        return old

    def sorted_app_ids(self) -> list[str]:
        if self._sorted_app_ids is None:
            self._sorted_app_ids = sorted(
                self.apps, key=lambda i: (str(self.apps[i].spec.get("name", "")).lower(), i)
            )
        return self._sorted_app_ids


class Store:
    """All environments' data, the clock, and optional persistence to a JSON file."""

    def __init__(self, state_file: str | Path | None = None) -> None:
        self.lock = threading.RLock()
        self._envs: dict[tuple[str, str], EnvironmentData] = {}
        self._last_ms = 0
        self.state_file = Path(state_file) if state_file else None
        if self.state_file and self.state_file.exists():
            self.load(json.loads(self.state_file.read_text(encoding="utf-8")))

    def env(self, org_id: str, env_id: str) -> EnvironmentData:
        data = self._envs.get((org_id, env_id))
        if data is None:
            data = self._envs[(org_id, env_id)] = EnvironmentData()
        return data

    def now_ms(self) -> int:
        """Epoch milliseconds, strictly increasing so every write gets a distinct ETag."""
        now = int(time.time() * 1000)
        self._last_ms = max(now, self._last_ms + 1)
        return self._last_ms

    def all_apis(self) -> Iterable[ApiRecord]:
        for data in self._envs.values():
            yield from data.apis.values()

    def all_apps(self) -> Iterable[ApplicationRecord]:
        for data in self._envs.values():
            yield from data.apps.values()

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {
                "format": STATE_FORMAT,
                "apis": [r.to_json() for r in self.all_apis()],
                "applications": [r.to_json() for r in self.all_apps()],
            }

    def load(self, state: dict[str, Any]) -> None:
        """Replace everything with ``state`` (the shape :meth:`dump` returns)."""
        if not isinstance(state, dict) or state.get("format", STATE_FORMAT) != STATE_FORMAT:
            raise ValueError(f"state must be an object with format {STATE_FORMAT!r}")
        apis = [ApiRecord.from_json(a) for a in state.get("apis", [])]
        apps = [ApplicationRecord.from_json(a) for a in state.get("applications", [])]
        with self.lock:
            self._envs = {}
            for api in apis:
                self.env(api.org_id, api.env_id).put_api(api)
                self._last_ms = max(self._last_ms, api.updated_at)
            for app in apps:
                self.env(app.org_id, app.env_id).put_app(app)
                self._last_ms = max(self._last_ms, app.updated_at)

    def persist(self) -> None:
        """Write the state file atomically (temp file + rename) if persistence is on."""
        if self.state_file is None:
            return
        payload = json.dumps(self.dump(), separators=(",", ":"))
        directory = self.state_file.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".emulator-state-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(payload)
            os.replace(tmp, self.state_file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
