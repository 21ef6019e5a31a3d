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
access tokens for ``Authorization: Bearer``. An environment is addressed by its ``id`` or one of its
``hrids``, as APIM does. Credentials are compared in constant time and never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_USERS: dict[str, Any] = {
    "organizations": [
        {
            "id": "DEFAULT",
            "name": "Default organization",
            "environments": [{"id": "DEFAULT", "hrids": ["default"], "name": "Default environment"}],
        }
    ],
    "users": [
        {"username": "admin", "password": "admin", "tokens": ["emulator-token"], "organizations": ["DEFAULT"]}
    ],
}


@dataclass(frozen=True)
class Environment:
    id: str
    org_id: str
    name: str
    description: str | None
    hrids: tuple[str, ...]


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

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.users: list[User] = []
        self.orgs: dict[str, dict[str, Environment]] = {}
        for org in config.get("organizations", []):
            org_id = str(org["id"])
            envs: dict[str, Environment] = {}
            for env in org.get("environments", []):
                e = Environment(
                    id=str(env["id"]),
                    org_id=org_id,
                    name=str(env.get("name", env["id"])),
                    description=env.get("description"),
                    hrids=tuple(str(h) for h in env.get("hrids", [])),
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

    @classmethod
    def load(cls, users: str | Path | Mapping[str, Any] | None) -> Directory:
        if users is None:
            return cls(DEFAULT_USERS)
        if isinstance(users, Mapping):
            return cls(users)
        return cls(json.loads(Path(users).read_text(encoding="utf-8")))

    def authenticate(self, authorization: str | None) -> User | None:
        """The user of a ``Basic`` or ``Bearer`` (personal access token) header, or ``None``.

        A bearer token containing a ``.`` is a console JWT in APIM; the emulator issues none, so those fail.
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
            for user in self.users:
                if hmac.compare_digest(user.username.encode(), username.encode()) and hmac.compare_digest(
                    user.password.encode(), password.encode()
                ):
                    return user if user.password else None
            return None
        if scheme == "bearer" and value and "." not in value:
            for user in self.users:
                for token in user.tokens:
                    if hmac.compare_digest(token.encode(), value.encode()):
                        return user
        return None

    def environment(self, org_id: str | None, env_ref: str) -> Environment | None:
        """The environment ``env_ref`` (id or HRID) of ``org_id``; of any organization when ``None``."""
        if org_id is None:
            for org_envs in self.orgs.values():
                if env_ref in org_envs:
                    return org_envs[env_ref]
            return None
        envs = self.orgs.get(org_id)
        return None if envs is None else envs.get(env_ref)
