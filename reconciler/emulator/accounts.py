"""Users, their roles and their personal access tokens: the emulator's mutable identity registry.

Why a registry separate from the users file: APIM lets an administrator create users (service
accounts), give them roles and mint tokens at runtime, and those tokens must work as bearer tokens at
once. Every user, from the users file or created through mAPI v1, is an :class:`Account` here; the
users file only seeds it.

Roles are kept here by name per reference (``"ORGANIZATION:<id>"``, ``"ENVIRONMENT:<id>"``); their ids
(random, as on a real installation) and what they allow are in :mod:`.roles`. Users of the users file
get ``ADMIN`` on each organization they may use and on every environment of those, unless they list
``roles`` themselves (``{"ORGANIZATION:DEFAULT": ["ADMIN"], "ENVIRONMENT:DEFAULT": ["API_PUBLISHER"]}``,
by name: the users file is emulator configuration, not an API call).

Tokens: a value (a random UUID, like APIM's), an id, a name unique per user without regard to case
(``TokenServiceImpl.create``: ``equalsIgnoreCase``), ``created_at``, ``expires_at`` (always ``None`` on a
real server; the ``token_ttl_seconds`` test knob sets it) and ``last_use_at``, updated on every successful
authentication. An expired token or a revoked (deleted) one authenticates nobody: the caller gets a 401.

Console JWTs: with ``jwtSecret`` in the users file, an HS256 JWT signed with it whose ``sub`` is a user
id or username, and whose ``exp`` (if any) is in the future, authenticates that user, as APIM's
``jwt.secret`` does. Without it every JWT is refused, as before.

Persistence: with ``--state``, accounts, their roles and the tokens minted or revoked through the API
are written to the state file with the store (:meth:`Accounts.to_state`), as a real server keeps them
in its database across restarts; a token is kept only as a SHA-256 digest of its value, as APIM keeps
only a BCrypt encoding of it (``TokenServiceImpl``: ``passwordEncoder.encode``, and ``matches`` on
authentication), so the file holds no usable token. Users-file tokens are seeded again at each start
and are not written.

Nothing here is ever logged; ``repr`` of an account or token shows no secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import ids

ORGANIZATION = "ORGANIZATION"
ENVIRONMENT = "ENVIRONMENT"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Token:
    """A personal access token; ``value`` is shown once, in the answer to its creation."""

    id: str
    name: str
    value: str = field(repr=False)
    created_at: int
    expires_at: int | None = None
    last_use_at: int | None = None
    seeded: bool = False  # from the users file: seeded again at each start, never persisted
    stored_digest: str | None = field(default=None, repr=False)  # a token read back from the state file

    @property
    def digest(self) -> str:
        """The digest its value is found by (a token read back from the state file has no value)."""
        return self.stored_digest if self.stored_digest is not None else token_digest(self.value)

    def expired(self, at_ms: int) -> bool:
        return self.expires_at is not None and at_ms >= self.expires_at

    def to_json(self, *, with_value: bool = False) -> dict[str, Any]:
        """APIM's ``TokenEntity``: dates in epoch milliseconds, nulls omitted, the value only on creation."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "created_at": self.created_at}
        if with_value:
            out["token"] = self.value
        if self.expires_at is not None:
            out["expires_at"] = self.expires_at
        if self.last_use_at is not None:
            out["last_use_at"] = self.last_use_at
        return out


def token_digest(value: str) -> str:
    """What is kept of a token's value: enough to recognise it, not to use it."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class Account:
    """One user of one organization, with its roles per reference (``"ORGANIZATION:<id>"``)."""

    id: str
    org_id: str
    source: str
    source_id: str
    lastname: str | None = None
    firstname: str | None = None
    email: str | None = None
    service: bool = False
    password: str = field(default="", repr=False)
    organizations: tuple[str, ...] = ()
    roles: dict[str, list[str]] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict, repr=False)
    created_at: int = 0
    updated_at: int = 0

    @property
    def username(self) -> str:
        return self.source_id

    @property
    def display_name(self) -> str:
        """As APIM's ``UserEntity.getDisplayName``: names, else email (not for memory users), else sourceId."""
        if self.firstname or self.lastname:
            return " ".join(p for p in (self.firstname, self.lastname) if p)
        if self.email and self.source != "memory":
            return self.email
        return self.source_id

    def can_access(self, org_id: str) -> bool:
        return "*" in self.organizations or org_id in self.organizations

    def roles_on(self, reference_type: str, reference_id: str) -> list[str]:
        return list(self.roles.get(f"{reference_type}:{reference_id}", []))


class Accounts:
    """Every account, indexed by id and by token value; used on the event loop only."""

    def __init__(self, token_ttl_seconds: float | None = None, jwt_secret: str | None = None) -> None:
        self.by_id: dict[str, Account] = {}
        self._by_token: dict[str, tuple[str, str]] = {}  # value digest -> (account id, token id)
        self.token_ttl_seconds = token_ttl_seconds
        self._jwt_secret = jwt_secret

    def __repr__(self) -> str:
        return f"Accounts({len(self.by_id)} accounts)"

    # -- seeding from the users file -----------------------------------------------------------
    def add_configured(
        self,
        raw: Mapping[str, Any],
        environments_of: Mapping[str, Iterable[str]],
    ) -> Account:
        """An account for a users-file entry; ``environments_of`` maps each organization to its env ids."""
        username = str(raw["username"])
        organizations = tuple(str(o) for o in raw.get("organizations", ["*"]))
        home = next((o for o in organizations if o != "*"), next(iter(environments_of), "DEFAULT"))
        account = Account(
            id=ids.name_uuid(f"emulator-user:{username}"),
            org_id=home,
            source="memory",
            source_id=username,
            lastname=raw.get("lastname"),
            firstname=raw.get("firstname"),
            email=raw.get("email"),
            service=bool(raw.get("service", False)),
            password=str(raw.get("password", "")),
            organizations=organizations,
        )
        roles = raw.get("roles")
        if isinstance(roles, Mapping):
            account.roles = {str(k): [str(r) for r in v] for k, v in roles.items()}
        else:
            for org_id, env_ids in environments_of.items():
                if account.can_access(org_id):
                    account.roles[f"{ORGANIZATION}:{org_id}"] = ["ADMIN"]
                    for env_id in env_ids:
                        account.roles[f"{ENVIRONMENT}:{env_id}"] = ["ADMIN"]
        for index, value in enumerate(raw.get("tokens", [])):
            token = Token(
                ids.name_uuid(f"emulator-token:{username}:{index}"),
                f"token-{index}",
                str(value),
                0,
                seeded=True,
            )
            self._index_token(account, token)
        self.by_id[account.id] = account
        return account

    # -- authentication ------------------------------------------------------------------------
    def authenticate_basic(self, username: str, password: str) -> Account | None:
        for account in self.by_id.values():
            if not account.password:
                continue
            if hmac.compare_digest(account.source_id.encode(), username.encode()) and hmac.compare_digest(
                account.password.encode(), password.encode()
            ):
                return account
        return None

    def authenticate_bearer(self, value: str) -> Account | None:
        """The owner of a live personal access token (its ``last_use_at`` updated), or of a valid JWT."""
        if "." in value:
            return self._authenticate_jwt(value)
        # A dict lookup is not constant-time, but the index key is a digest of the secret: an attacker
        # learns nothing from timing that a wrong guess does not already tell.
        found = self._by_token.get(token_digest(value))
        if found is None:
            return None
        account = self.by_id.get(found[0])
        token = account.tokens.get(found[1]) if account else None
        if account is None or token is None:
            return None
        now = now_ms()
        if token.expired(now):
            return None
        token.last_use_at = now
        return account

    def _authenticate_jwt(self, value: str) -> Account | None:
        if not self._jwt_secret:
            return None
        parts = value.split(".")
        if len(parts) != 3:
            return None
        try:
            header = json.loads(_b64url(parts[0]))
            claims = json.loads(_b64url(parts[1]))
            signature = _b64url(parts[2])
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
            return None
        expected = hmac.new(self._jwt_secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256)
        if not hmac.compare_digest(expected.digest(), signature):
            return None
        exp = claims.get("exp")
        if isinstance(exp, int | float) and time.time() >= exp:
            return None
        subject = str(claims.get("sub", ""))
        return self.by_id.get(subject) or next(
            (a for a in self.by_id.values() if a.source_id == subject), None
        )

    # -- users ---------------------------------------------------------------------------------
    def find_by_source(self, org_id: str, source: str, source_id: str) -> Account | None:
        for account in self.by_id.values():
            if account.org_id == org_id and account.source == source and account.source_id == source_id:
                return account
        return None

    def create(self, org_id: str, body: Mapping[str, Any], default_env: str | None = None) -> Account:
        """A pre-registered user (``NewPreRegisterUserEntity``), validated by the caller.

        It gets the default roles (``AssignUserDefaultRolesDomainServiceImpl``): the organization's default
        role (``USER``) and the environment's default role (``USER``) on the default environment
        (``GraviteeContext.getDefaultEnvironment()``, ``DEFAULT``) when the organization has it.
        """
        source = str(body.get("source") or "gravitee")
        source_id = str(body.get("sourceId") or body.get("lastname") or body.get("email"))
        now = now_ms()
        account = Account(
            id=str(uuid.uuid4()),
            org_id=org_id,
            source=source,
            source_id=source_id,
            lastname=body.get("lastname") or None,
            firstname=body.get("firstname") or None,
            email=body.get("email") or None,
            service=bool(body.get("service", False)),
            organizations=(org_id,),
            roles={f"{ORGANIZATION}:{org_id}": ["USER"]},
            created_at=now,
            updated_at=now,
        )
        if default_env is not None:
            account.roles[f"{ENVIRONMENT}:{default_env}"] = ["USER"]
        self.by_id[account.id] = account
        return account

    def in_organization(self, org_id: str) -> list[Account]:
        return sorted(
            (a for a in self.by_id.values() if a.org_id == org_id or a.can_access(org_id)),
            key=lambda a: (a.display_name.lower(), a.id),
        )

    # -- tokens --------------------------------------------------------------------------------
    def create_token(self, account: Account, name: str) -> Token:
        now = now_ms()
        ttl = self.token_ttl_seconds
        token = Token(
            id=str(uuid.uuid4()),
            name=name,
            value=str(uuid.uuid4()),
            created_at=now,
            expires_at=None if ttl is None else now + int(ttl * 1000),
        )
        self._index_token(account, token)
        return token

    def revoke_token(self, account: Account, token_id: str) -> bool:
        token = account.tokens.pop(token_id, None)
        if token is None:
            return False
        self._by_token.pop(token.digest, None)
        return True

    def _index_token(self, account: Account, token: Token) -> None:
        account.tokens[token.id] = token
        self._by_token[token.digest] = (account.id, token.id)

    # -- persistence (the state file) ----------------------------------------------------------
    def to_state(self) -> list[dict[str, Any]]:
        """Every account with its roles and its API-minted tokens (digests only), for the state file."""
        return [
            {
                "id": a.id,
                "orgId": a.org_id,
                "source": a.source,
                "sourceId": a.source_id,
                "lastname": a.lastname,
                "firstname": a.firstname,
                "email": a.email,
                "service": a.service,
                "organizations": list(a.organizations),
                "roles": a.roles,
                "createdAt": a.created_at,
                "updatedAt": a.updated_at,
                "tokens": [
                    {
                        "id": t.id,
                        "name": t.name,
                        "sha256": t.digest,
                        "createdAt": t.created_at,
                        "expiresAt": t.expires_at,
                        "lastUseAt": t.last_use_at,
                    }
                    for t in a.tokens.values()
                    if not t.seeded
                ],
            }
            for a in self.by_id.values()
        ]

    def load_state(self, state: Iterable[Mapping[str, Any]]) -> None:
        """Restore what :meth:`to_state` wrote. Users-file accounts keep their password and seeded
        tokens and take the persisted roles and tokens; accounts created through the API come back."""
        for raw in state:
            existing = self.by_id.get(str(raw["id"]))
            account = Account(
                id=str(raw["id"]),
                org_id=str(raw["orgId"]),
                source=str(raw["source"]),
                source_id=str(raw["sourceId"]),
                lastname=raw.get("lastname"),
                firstname=raw.get("firstname"),
                email=raw.get("email"),
                service=bool(raw.get("service", False)),
                password=existing.password if existing else "",
                organizations=tuple(str(o) for o in raw.get("organizations", ())),
                roles={str(k): [str(r) for r in v] for k, v in dict(raw.get("roles", {})).items()},
                created_at=int(raw.get("createdAt", 0)),
                updated_at=int(raw.get("updatedAt", 0)),
            )
            self.by_id[account.id] = account
            for token in existing.tokens.values() if existing else ():
                if token.seeded:
                    self._index_token(account, token)
            for item in raw.get("tokens", ()):
                self._index_token(
                    account,
                    Token(
                        id=str(item["id"]),
                        name=str(item["name"]),
                        value="",
                        created_at=int(item["createdAt"]),
                        expires_at=item.get("expiresAt"),
                        last_use_at=item.get("lastUseAt"),
                        stored_digest=str(item["sha256"]),
                    ),
                )


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
