"""Records of the kinds beside APIs and applications: groups, dictionaries, shared policy groups,
subscriptions and their API keys, kept per environment in :class:`KindRecords` (``EnvironmentData.kinds``)
and persisted with the rest of the store (``--state``).

Each record holds what the server's repository holds for it (the ``Group``, ``Dictionary``,
``SharedPolicyGroup``, ``Subscription`` and ``ApiKey`` repository models), not the Automation API shape:
the endpoint modules map records to their answers. Dates are epoch milliseconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

# Subscription statuses the closing and listing rules look at (SubscriptionEntity.Status).
ACTIVE_STATUSES = ("ACCEPTED", "PENDING", "PAUSED")


@dataclass
class GroupRecord:
    id: str
    hrid: str | None
    org_id: str
    env_id: str
    name: str
    disable_membership_notifications: bool
    # user id -> {role scope: role name}, in the order the import added them
    members: dict[str, dict[str, str]] = field(default_factory=dict)
    origin: str = "KUBERNETES"
    created_at: int = 0
    updated_at: int = 0


@dataclass
class DictionaryRecord:
    id: str
    key: str | None
    org_id: str
    env_id: str
    name: str
    type: str
    description: str | None = None
    properties: dict[str, str] | None = None
    # {type, configuration}: the provider's JSON as DictionaryServiceImpl stores it
    provider: dict[str, Any] | None = None
    trigger: dict[str, Any] | None = None
    state: str = "STOPPED"
    deployed_at: int | None = None
    created_at: int = 0
    updated_at: int = 0


@dataclass
class SharedPolicyGroupRecord:
    id: str
    cross_id: str
    hrid: str | None
    org_id: str
    env_id: str
    name: str
    api_type: str
    phase: str
    description: str | None = None
    prerequisite_message: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    lifecycle_state: str = "UNDEPLOYED"
    version: int = 0
    deployed_at: int | None = None
    created_at: int = 0
    updated_at: int = 0


@dataclass
class SubscriptionRecord:
    id: str
    org_id: str
    env_id: str
    api_id: str
    plan_id: str
    application_id: str
    status: str
    type: str = "STANDARD"
    starting_at: int | None = None
    ending_at: int | None = None
    metadata: dict[str, str] | None = None
    # SubscriptionConfigurationEntity {entrypointId, channel?, entrypointConfiguration?}
    configuration: dict[str, Any] | None = None
    client_id: str | None = None
    subscribed_by: str = ""
    processed_by: str | None = None
    processed_at: int | None = None
    closed_at: int | None = None
    reason: str | None = None
    origin: str = "KUBERNETES"
    created_at: int = 0
    updated_at: int = 0


@dataclass
class ApiKeyRecord:
    id: str
    key: str
    application_id: str
    env_id: str
    org_id: str
    subscriptions: list[str] = field(default_factory=list)
    expire_at: int | None = None
    revoked: bool = False
    revoked_at: int | None = None
    paused: bool = False
    created_at: int = 0
    updated_at: int = 0

    def expired(self, now: int) -> bool:
        """``ApiKeyEntity.isExpired``."""
        return self.expire_at is not None and now > self.expire_at

    def can_be_revoked(self, now: int) -> bool:
        """``ApiKeyEntity.canBeRevoked``: neither revoked nor expired."""
        return not self.revoked and not self.expired(now)


Record = TypeVar("Record")


def _to_json(record: Any) -> dict[str, Any]:
    return dataclasses.asdict(record)


def _from_json(cls: Callable[..., Record], names: Iterable[str], obj: dict[str, Any]) -> Record:
    return cls(**{k: v for k, v in obj.items() if k in set(names)})


def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


class KindRecords:
    """One environment's records of these kinds, with the indexes their endpoints need."""

    def __init__(self) -> None:
        self.groups: dict[str, GroupRecord] = {}
        self.dictionaries: dict[str, DictionaryRecord] = {}
        self.shared_policy_groups: dict[str, SharedPolicyGroupRecord] = {}
        self._spg_by_cross_id: dict[str, str] = {}
        self.subscriptions: dict[str, SubscriptionRecord] = {}
        self._subscriptions_by_api: dict[str, dict[str, None]] = {}
        self.api_keys: dict[str, ApiKeyRecord] = {}
        self._keys_by_subscription: dict[str, dict[str, None]] = {}

    # -- shared policy groups ----------------------------------------------------------------------
    def put_spg(self, record: SharedPolicyGroupRecord) -> None:
        self.remove_spg(record.id)
        self.shared_policy_groups[record.id] = record
        self._spg_by_cross_id[record.cross_id] = record.id

    def remove_spg(self, spg_id: str) -> SharedPolicyGroupRecord | None:
        old = self.shared_policy_groups.pop(spg_id, None)
        if old is not None and self._spg_by_cross_id.get(old.cross_id) == spg_id:
            del self._spg_by_cross_id[old.cross_id]
        return old

    def spg_by_cross_id(self, cross_id: str | None) -> SharedPolicyGroupRecord | None:
        spg_id = self._spg_by_cross_id.get(cross_id) if cross_id is not None else None
        return self.shared_policy_groups.get(spg_id) if spg_id else None

    # -- subscriptions and keys --------------------------------------------------------------------
    def put_subscription(self, record: SubscriptionRecord) -> None:
        self.subscriptions[record.id] = record
        self._subscriptions_by_api.setdefault(record.api_id, {})[record.id] = None

    def remove_subscription(self, subscription_id: str) -> SubscriptionRecord | None:
        old = self.subscriptions.pop(subscription_id, None)
        if old is not None:
            self._subscriptions_by_api.get(old.api_id, {}).pop(subscription_id, None)
        return old

    def subscriptions_of_api(self, api_id: str) -> list[SubscriptionRecord]:
        """In creation order (the repository's ``created_at`` order)."""
        return [self.subscriptions[i] for i in self._subscriptions_by_api.get(api_id, {})]

    def put_key(self, record: ApiKeyRecord) -> None:
        self.api_keys[record.id] = record
        for subscription_id in record.subscriptions:
            self._keys_by_subscription.setdefault(subscription_id, {})[record.id] = None

    def remove_key(self, key_id: str) -> None:
        old = self.api_keys.pop(key_id, None)
        if old is not None:
            for subscription_id in old.subscriptions:
                self._keys_by_subscription.get(subscription_id, {}).pop(key_id, None)

    def keys_of(self, subscription_id: str) -> list[ApiKeyRecord]:
        return [self.api_keys[i] for i in self._keys_by_subscription.get(subscription_id, {})]

    # -- persistence -------------------------------------------------------------------------------
    def dump(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "groups": [_to_json(r) for r in self.groups.values()],
            "dictionaries": [_to_json(r) for r in self.dictionaries.values()],
            "sharedPolicyGroups": [_to_json(r) for r in self.shared_policy_groups.values()],
            "subscriptions": [_to_json(r) for r in self.subscriptions.values()],
            "apiKeys": [_to_json(r) for r in self.api_keys.values()],
        }


_KINDS: tuple[tuple[str, type], ...] = (
    ("groups", GroupRecord),
    ("dictionaries", DictionaryRecord),
    ("sharedPolicyGroups", SharedPolicyGroupRecord),
    ("subscriptions", SubscriptionRecord),
    ("apiKeys", ApiKeyRecord),
)


def dump_kinds(environments: Iterable[Any]) -> dict[str, list[dict[str, Any]]]:
    """The records of every environment (objects with a ``kinds`` attribute), one list per kind."""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in _KINDS}
    for data in environments:
        for name, items in data.kinds.dump().items():
            out[name].extend(items)
    return out


def load_kinds(state: dict[str, Any], env_of: Callable[[str, str], Any]) -> int:
    """Put the records of ``state`` into the environments ``env_of(org, env)`` returns; the latest
    ``updated_at`` seen (the store's clock must not go back)."""
    latest = 0
    for name, cls in _KINDS:
        names = _names(cls)
        for obj in state.get(name, []):
            record = _from_json(cls, names, obj)
            kinds: KindRecords = env_of(record.org_id, record.env_id).kinds
            if isinstance(record, GroupRecord):
                kinds.groups[record.id] = record
            elif isinstance(record, DictionaryRecord):
                kinds.dictionaries[record.id] = record
            elif isinstance(record, SharedPolicyGroupRecord):
                kinds.put_spg(record)
            elif isinstance(record, SubscriptionRecord):
                kinds.put_subscription(record)
            elif isinstance(record, ApiKeyRecord):
                kinds.put_key(record)
            latest = max(latest, int(getattr(record, "updated_at", 0) or 0))
    return latest
