"""The emulator's single store: every endpoint family (Automation API, mAPI v2, mAPI v1) reads and
writes the same records, so an API created one way is visible the others.

Records are kept per (organization, environment) with the indexes the endpoints need so that no request
is O(N) in Python: by id, HRID, crossId and listener path, plus a name-sorted id list for paging that is
rebuilt lazily only after a write. All access happens under :attr:`Store.lock` (handlers run on the event
loop; the Python API of :class:`~reconciler.emulator.server.RunningEmulator` runs on other threads).
"""

from __future__ import annotations

import bisect
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .portal_model import PortalData, dump_portal_data, load_portal_data
from .records import KindRecords, dump_kinds, load_kinds

STATE_FORMAT = "apim-emulator-state/1"


_SLASHES = re.compile(r"/+")
# Characters a java.net.URI path may hold unescaped (RFC 2396 pchar + "/"); anything else makes
# ``new URL("https", "localhost", 80, path).toURI()`` throw.
_URI_PATH = re.compile(r"^[A-Za-z0-9\-_.!~*'();:@&=+$,/]*$")


def normalize_path(path: str | None) -> str:
    """``Path.sanitizePath``: a leading and a trailing ``/``, runs of ``/`` collapsed; empty is ``/``."""
    sanitized = path or "/"
    if not sanitized.startswith("/"):
        sanitized = "/" + sanitized
    if not sanitized.endswith("/"):
        sanitized += "/"
    return _SLASHES.sub("/", sanitized)


def valid_path(path: str) -> bool:
    """Whether ``Path.sanitizePath`` accepts ``path`` (else ``Path [x] is invalid``)."""
    return _URI_PATH.match(normalize_path(path)) is not None


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
    # user id -> API role name (the creator is PRIMARY_OWNER): what API-scope permission checks read
    members: dict[str, str] = field(default_factory=dict)
    # plan id -> active subscriptions (an emulator control sets them; the client never makes any)
    subscriptions: dict[str, int] = field(default_factory=dict)

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
                        if isinstance(p, dict) and isinstance(p.get("path", "/"), str | None):
                            out.append((str(p.get("host") or ""), normalize_path(p.get("path"))))
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
            "members": self.members,
            "subscriptions": self.subscriptions,
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
            members=dict(obj.get("members") or {}),
            subscriptions={str(k): int(v) for k, v in (obj.get("subscriptions") or {}).items()},
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
    members: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return str(self.spec.get("status") or "ACTIVE")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "hrid": self.hrid,
            "members": self.members,
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
            members=dict(obj.get("members") or {}),
        )


ChangeListener = Callable[[tuple[str, str], str, "ApiRecord | None"], None]


class EnvironmentData:
    """Records of one environment and their indexes."""

    def __init__(self, key: tuple[str, str] = ("", ""), on_change: ChangeListener | None = None) -> None:
        self.key = key
        self.on_change = on_change
        self.case_sensitive_names = False  # MongoDB sorts names as they are, JDBC by lower(name)
        self.apis: dict[str, ApiRecord] = {}
        self.api_by_hrid: dict[str, str] = {}
        self.api_by_cross_id: dict[str, str] = {}
        # host -> sanitized path -> ids of the APIs listening there, and the sorted paths per host
        self._paths: dict[str, dict[str, set[str]]] = {}
        self._sorted_paths: dict[str, list[str]] = {}
        self.apps: dict[str, ApplicationRecord] = {}
        self.app_by_hrid: dict[str, str] = {}
        self._sorted_api_ids: list[str] | None = None
        self._sorted_app_ids: list[str] | None = None
        self.portal = PortalData()  # portals, listings, links, documentation pages (4.12+)
        self.kinds = KindRecords()  # groups, dictionaries, shared policy groups, subscriptions

    # -- APIs -------------------------------------------------------------------------------------
    def put_api(self, record: ApiRecord, *, notify: bool = True) -> None:
        self.remove_api(record.id, notify=False)
        self.apis[record.id] = record
        if record.hrid:
            self.api_by_hrid[record.hrid] = record.id
        self.api_by_cross_id[record.cross_id] = record.id
        for host, path in record.listener_paths():
            holders = self._paths.setdefault(host, {}).setdefault(path, set())
            if not holders:
                bisect.insort(self._sorted_paths.setdefault(host, []), path)
            holders.add(record.id)
        self._sorted_api_ids = None
        if notify and self.on_change is not None:
            self.on_change(self.key, record.id, record)

    def remove_api(self, api_id: str, *, notify: bool = True) -> ApiRecord | None:
        old = self.apis.pop(api_id, None)
        if old is None:
            return None
        if old.hrid and self.api_by_hrid.get(old.hrid) == api_id:
            del self.api_by_hrid[old.hrid]
        if self.api_by_cross_id.get(old.cross_id) == api_id:
            del self.api_by_cross_id[old.cross_id]
        for host, path in old.listener_paths():
            holders = self._paths.get(host, {}).get(path)
            if holders is not None:
                holders.discard(api_id)
                if not holders:
                    del self._paths[host][path]
                    paths = self._sorted_paths[host]
                    del paths[bisect.bisect_left(paths, path)]
        self._sorted_api_ids = None
        if notify and self.on_change is not None:
            self.on_change(self.key, api_id, None)
        return old

    def path_clashes(self, record: ApiRecord) -> list[str]:
        """``Path [x] already exists`` errors of ``record`` against the other APIs of this environment.

        ``ApiPathIndex.scanPaths``/``ApiPathExtractor.findConflictingPathError``: a candidate path clashes
        with an existing one when either starts with the other (``/a/`` and ``/a/b/`` clash), comparing
        paths with a host only to paths with the same host and paths without one only to each other; the
        message names the *existing* path, one per other API and candidate path.
        """
        out: list[str] = []
        for host, path in record.listener_paths():
            paths = self._paths.get(host, {})
            sorted_paths = self._sorted_paths.get(host, [])
            seen_apis: set[str] = set()
            candidates: list[str] = []
            # existing paths that are a prefix of ``path`` (sanitized paths end with "/")
            for cut in range(1, len(path) + 1):
                if path[cut - 1] == "/" and path[:cut] in paths:
                    candidates.append(path[:cut])
            # existing paths that start with ``path``
            i = bisect.bisect_left(sorted_paths, path)
            while i < len(sorted_paths) and sorted_paths[i].startswith(path):
                if sorted_paths[i] != path:
                    candidates.append(sorted_paths[i])
                i += 1
            for existing in candidates:
                for api_id in sorted(paths.get(existing, ())):
                    if api_id != record.id and api_id not in seen_apis:
                        seen_apis.add(api_id)
                        out.append(existing)
        return out

    def sorted_api_ids(self) -> list[str]:
        """Ids as the repository orders ``GET /apis`` (``sortable`` name ascending, then id):
        JDBC ``order by lower(a.name) asc, a.id asc``; MongoDB ``Sort.by(ASC, "name").and(ASC, "id")``."""
        if self._sorted_api_ids is None:
            if self.case_sensitive_names:
                self._sorted_api_ids = sorted(self.apis, key=lambda i: (self.apis[i].name, i))
            else:
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

    def __init__(
        self,
        state_file: str | Path | None = None,
        *,
        on_change: ChangeListener | None = None,
        case_sensitive_names: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        self._envs: dict[tuple[str, str], EnvironmentData] = {}
        self._last_ms = 0
        self.on_change = on_change
        self.case_sensitive_names = case_sensitive_names
        self.state_file = Path(state_file) if state_file else None
        # the accounts and tokens the state file keeps too (auth.Directory); never in dump()
        self.identity_state: Callable[[], dict[str, Any]] | None = None
        if self.state_file and self.state_file.exists():
            self.load(json.loads(self.state_file.read_text(encoding="utf-8")))

    def env(self, org_id: str, env_id: str) -> EnvironmentData:
        data = self._envs.get((org_id, env_id))
        if data is None:
            data = self._envs[(org_id, env_id)] = EnvironmentData((org_id, env_id), self.on_change)
            data.case_sensitive_names = self.case_sensitive_names
        return data

    def environments(self) -> Iterable[EnvironmentData]:
        return list(self._envs.values())

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
                **dump_portal_data(d.portal for d in self._envs.values()),
                **dump_kinds(self._envs.values()),
            }

    def load(self, state: dict[str, Any]) -> None:
        """Replace everything with ``state`` (the shape :meth:`dump` returns)."""
        if not isinstance(state, dict) or state.get("format", STATE_FORMAT) != STATE_FORMAT:
            raise ValueError(f"state must be an object with format {STATE_FORMAT!r}")
        apis = [ApiRecord.from_json(a) for a in state.get("apis", [])]
        apps = [ApplicationRecord.from_json(a) for a in state.get("applications", [])]
        portal_records = load_portal_data(state)
        with self.lock:
            self._envs = {}
            for api in apis:
                self.env(api.org_id, api.env_id).put_api(api, notify=False)
                self._last_ms = max(self._last_ms, api.updated_at)
            for app in apps:
                self.env(app.org_id, app.env_id).put_app(app)
                self._last_ms = max(self._last_ms, app.updated_at)
            for record in portal_records:
                self.env(record.org_id, record.env_id).portal.put(record)
            self._last_ms = max(self._last_ms, load_kinds(state, self.env))

    def persist(self) -> None:
        """Write the state file atomically (temp file + rename) if persistence is on."""
        if self.state_file is None:
            return
        state = self.dump()
        if self.identity_state is not None:
            state["identity"] = self.identity_state()
        payload = json.dumps(state, separators=(",", ":"))
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
