"""Users, personal access tokens, organizations and environments known to the emulator.

Users file (``--users FILE``, JSON)::

    {
      "organizations": [
        {"id": "DEFAULT", "name": "Default organization",
         "environments": [{"id": "DEFAULT", "hrids": ["default"], "name": "Default environment"}]}
      ],
      "users": [
        {"username": "admin", "password": "admin", "tokens": ["emulator-token"], "organizations": ["DEFAULT"]}
      ]
    }

``organizations`` of a user lists the organizations it may use (``"*"`` = all); ``tokens`` are personal
access tokens for ``Authorization: Bearer``. An environment may list ``metadata`` (``[{"key", "name",
"format", "value"}]``): environment-level metadata, which APIM merges into every API's metadata
(default: the ``email-support`` entry every real environment gets);
``categories`` (keys) and ``groups`` (names) the environment has (others are dropped from API specs). Optional per user: ``roles``, ``firstname``, ``lastname``,
``email``, ``service``; optional at the top: ``jwtSecret`` (see :mod:`.accounts`, which also holds users
and tokens created at runtime through mAPI v1). An environment is addressed by its ``id`` or one of its
``hrids``, as APIM does. Credentials are compared in constant time and never logged.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .accounts import Account, Accounts
from .roles import RoleRegistry

DEFAULT_USERS: dict[str, Any] = {
    "organizations": [
        {
            "id": "DEFAULT",
            "name": "Default organization",
            "environments": [{"id": "DEFAULT", "hrids": ["default"], "name": "Default environment"}],
        }
    ],
    "users": [
        # the emulator's documented default login, as on a fresh APIM: not a secret
        {
            "username": "admin",
            "password": "admin",
            "tokens": ["emulator-token"],
            "organizations": ["DEFAULT"],
        },  # nosec B105
    ],
}


# MetadataServiceImpl.initialize (run by EnvironmentServiceImpl for every environment it creates and by
# DefaultMetadataInitializer): the environment-level ``email-support`` default.
DEFAULT_ENV_METADATA: tuple[dict[str, Any], ...] = (
    {"key": "email-support", "name": "email-support", "format": "MAIL", "value": "support@change.me"},
)


@dataclass(frozen=True)
class Environment:
    id: str
    org_id: str
    name: str
    description: str | None
    hrids: tuple[str, ...]
    metadata: tuple[Mapping[str, Any], ...] = ()
    categories: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class User:
    username: str
    password: str
    tokens: tuple[str, ...]
    organizations: tuple[str, ...]

    def can_access(self, org_id: str) -> bool:
        return "*" in self.organizations or org_id in self.organizations

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        return f"User(username={self.username!r})"


class Directory:
    """Authenticates requests and resolves (organization, environment) pairs."""

    def __init__(self, config: Mapping[str, Any], *, token_ttl_seconds: float | None = None) -> None:
        self.users: list[User] = []
        jwt_secret = config.get("jwtSecret")
        self.accounts = Accounts(token_ttl_seconds, str(jwt_secret) if jwt_secret else None)
        self.orgs: dict[str, dict[str, Environment]] = {}
        self.roles: dict[str, RoleRegistry] = {}
        for org in config.get("organizations", []):
            org_id = str(org["id"])
            self.roles[org_id] = RoleRegistry(org_id)
            envs: dict[str, Environment] = {}
            for env in org.get("environments", []):
                e = Environment(
                    id=str(env["id"]),
                    org_id=org_id,
                    name=str(env.get("name", env["id"])),
                    description=env.get("description"),
                    hrids=tuple(str(h) for h in env.get("hrids", [])),
                    metadata=tuple(dict(m) for m in env.get("metadata", DEFAULT_ENV_METADATA)),
                    categories=tuple(str(c) for c in env.get("categories", [])),
                    groups=tuple(str(g) for g in env.get("groups", [])),
                )
                envs[e.id] = e
                for alias in e.hrids:
                    envs.setdefault(alias, e)
            self.orgs[org_id] = envs
        for u in config.get("users", []):
            self.users.append(
                User(
                    username=str(u["username"]),
                    password=str(u.get("password", "")),
                    tokens=tuple(str(t) for t in u.get("tokens", [])),
                    organizations=tuple(str(o) for o in u.get("organizations", ["*"])),
                )
            )
            env_ids = {org: sorted({e.id for e in envs.values()}) for org, envs in self.orgs.items()}
            self.accounts.add_configured(u, env_ids)

    def identity_state(self) -> dict[str, Any]:
        """Accounts, roles and minted tokens for the state file (:meth:`Accounts.to_state`)."""
        return {
            "accounts": self.accounts.to_state(),
            "roleIds": {org_id: registry.to_state() for org_id, registry in self.roles.items()},
        }

    def load_identity(self, state: Mapping[str, Any]) -> None:
        """Take back what :meth:`identity_state` wrote before a restart."""
        for org_id, ids_by_role in dict(state.get("roleIds", {})).items():
            if org_id in self.roles:
                self.roles[org_id].load_state(ids_by_role)
        self.accounts.load_state(state.get("accounts", []))

    @classmethod
    def load(
        cls, users: str | Path | Mapping[str, Any] | None, *, token_ttl_seconds: float | None = None
    ) -> Directory:
        if users is None:
            return cls(DEFAULT_USERS, token_ttl_seconds=token_ttl_seconds)
        if isinstance(users, Mapping):
            return cls(users, token_ttl_seconds=token_ttl_seconds)
        data = json.loads(Path(users).read_text(encoding="utf-8"))
        return cls(data, token_ttl_seconds=token_ttl_seconds)

    def authenticate(self, authorization: str | None) -> Account | None:
        """The account of a ``Basic`` or ``Bearer`` header, or ``None`` (see :mod:`.accounts`).

        A bearer token containing a ``.`` is a console JWT in APIM: refused unless the users file sets a
        ``jwtSecret``. Personal access tokens may have been created through the API; expired or revoked
        ones authenticate nobody.
        """
        if not authorization:
            return None
        scheme, _, value = authorization.strip().partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme == "basic":
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            username, sep, password = decoded.partition(":")
            if not sep:
                return None
            return self.accounts.authenticate_basic(username, password)
        if scheme == "bearer" and value:
            return self.accounts.authenticate_bearer(value)
        return None

    def organization(self, org_id: str) -> Environment | None:
        """An organization-level scope for mAPI v1 ``/organizations/{orgId}/...`` routes.

        Handlers take an :class:`Environment`; an organization-scoped call gets one with an empty ``id``.
        """
        if org_id not in self.orgs:
            return None
        return Environment(id="", org_id=org_id, name=org_id, description=None, hrids=())

    def environment(self, org_id: str | None, env_ref: str) -> Environment | None:
        """The environment ``env_ref`` (id or HRID) of ``org_id``; of any organization when ``None``."""
        if org_id is None:
            for org_envs in self.orgs.values():
                if env_ref in org_envs:
                    return org_envs[env_ref]
            return None
        envs = self.orgs.get(org_id)
        return None if envs is None else envs.get(env_ref)
