"""Which APIM version the emulator plays, and what that version has.

Every predicate below was read from the server's source at the release tag named in its comment
(gravitee-io/gravitee-api-management); ``docs/emulator-fidelity.md`` lists them with their files. The
emulator covers 4.8.0 to 4.13.x (4.13 = the 4.13.0-SNAPSHOT head the reference specs come from).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .defaults import NEWEST as NEWEST

_SUPPORTED_MINORS = (8, 9, 10, 11, 12, 13)
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")

# First patch of each minor whose ApiSearchServiceImpl/ApiServiceImpl has fetchAndSetMetadata
# (mAPI v2 `_search` and `GET /apis` with `expands=metadata`); 4.12.0 and later all have it.
_METADATA_EXPAND_SINCE = {8: 25, 9: 18, 10: 13, 11: 5}
# First patch of each minor whose mAPI v2 ApiResource has `POST /apis/{apiId}/_detach`.
_DETACH_SINCE = {8: 20, 9: 13, 10: 5, 11: 0}
# First patch of each minor whose Automation subscription DELETE closes instead of deleting, and whose
# update guards the plan and application (SubscriptionCRDSpecDomainServiceImpl at each tag).
_SUBSCRIPTION_CLOSE_SINCE = {9: 18, 10: 13, 11: 3}
_SUBSCRIPTION_GUARDS_SINCE = {10: 9}

OLD_HRID = r"^[a-zA-Z][a-zA-Z0-9_-]{2,}$"  # automation open-api.yaml `Hrid`, 4.9.0 .. 4.11.x
NEW_HRID = r"^[a-zA-Z0-9][a-zA-Z0-9_-]+[a-zA-Z0-9]$"  # 4.12.0 and later

# mAPI v2 ApiSortByParam.ApiSortByEnum values: 4.8.x knows four, 4.9.0 and later twenty.
_SORT_BY_48 = ("name", "-name", "paths", "-paths")
_SORT_BY = (
    "name",
    "-name",
    "paths",
    "-paths",
    "api_type",
    "-api_type",
    "status",
    "-status",
    "access",
    "-access",
    "tags_asc",
    "-tags_desc",
    "categories_asc",
    "-categories_desc",
    "owner",
    "-owner",
    "portal_status",
    "-portal_status",
    "visibility",
    "-visibility",
)


@dataclass(frozen=True, order=True)
class ApimVersion:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> ApimVersion:
        match = _VERSION.match(text.strip())
        if match is None:
            raise ValueError(f"APIM version must look like 4.12.3, not {text!r}")
        version = cls(int(match[1]), int(match[2]), int(match[3]))
        if version.major != 4 or version.minor not in _SUPPORTED_MINORS:
            raise ValueError(f"the emulator plays APIM 4.8.0 to 4.13.x, not {text}")
        return version

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def _since(self, table: dict[int, int], all_from_minor: int) -> bool:
        if self.minor >= all_from_minor:
            return True
        first = table.get(self.minor)
        return first is not None and self.patch >= first

    # -- Automation API ---------------------------------------------------------------------------
    @property
    def automation_preview(self) -> bool:
        """4.8.x: the Automation module exists, with a pre-release contract (no applications, plans as a
        map, ``definitionContext`` required)."""
        return self.minor == 8

    @property
    def uuid_flag(self) -> str | None:
        """The query flag that addresses a resource by UUID: ``legacy`` in 4.9-4.11, ``hridContainsUUID``
        from 4.12.0 (ApisResource/ApiResource/ApplicationResource), none in 4.8."""
        if self.minor == 8:
            return None
        return "legacy" if self.minor < 12 else "hridContainsUUID"

    @property
    def hrid_pattern(self) -> str:
        return OLD_HRID if self.minor < 12 else NEW_HRID

    @property
    def plan_security_required(self) -> bool:
        """``PlanV4.required`` lists ``security`` before 4.12.0."""
        return self.minor < 12

    @property
    def api_types(self) -> tuple[str, ...]:
        """Automation ``ApiType`` enum: 4.9 has MESSAGE, PROXY, NATIVE; 4.10 adds the AI proxies."""
        if self.minor <= 9:
            return ("MESSAGE", "PROXY", "NATIVE")
        return ("A2A_PROXY", "LLM_PROXY", "MCP_PROXY", "MESSAGE", "PROXY", "NATIVE")

    # -- Automation API: groups, dictionaries, shared policy groups, subscriptions -----------------
    @property
    def has_subscriptions(self) -> bool:
        """``ApiSubscriptionsResource`` exists from 4.9.0."""
        return self.minor >= 9

    @property
    def has_groups_and_dictionaries(self) -> bool:
        """``GroupsResource`` and ``DictionariesResource`` exist from 4.12.0 (no 4.11.x patch has them)."""
        return self.minor >= 12

    @property
    def subscription_fields(self) -> tuple[str, ...]:
        """``SubscriptionSpec`` properties besides hrid, applicationHrid, planHrid, endingAt: ``metadata``
        from 4.11.0, ``apiKeys`` and ``consumerConfiguration`` from 4.12.0."""
        if self.minor >= 12:
            return ("metadata", "apiKeys", "consumerConfiguration")
        return ("metadata",) if self.minor == 11 else ()

    @property
    def subscription_delete_closes(self) -> bool:
        """A subscription DELETE closes (``DeleteSubscriptionSpecUseCase``) from 4.9.18, 4.10.13, 4.11.3;
        before, ``subscriptionCrudService.delete`` removes the record."""
        return self._since(_SUBSCRIPTION_CLOSE_SINCE, 12)

    @property
    def subscription_update_guards(self) -> bool:
        """From 4.10.9 and 4.11.0 an update refuses a plan or application change and restores a CLOSED
        subscription (``rejectImmutableFieldChanges``, ``restoreAsAccepted``)."""
        return self._since(_SUBSCRIPTION_GUARDS_SINCE, 11)

    @property
    def spg_phases(self) -> tuple[str, ...]:
        """Automation ``FlowPhase``: 4.8-4.10 has INTERACT and CONNECT, 4.11 ENTRYPOINT_CONNECT and
        INTERACT (all refused by ``hasValidPhase``), 4.12 only the four valid ones."""
        if self.minor >= 12:
            return ("REQUEST", "RESPONSE", "PUBLISH", "SUBSCRIBE")
        if self.minor == 11:
            return ("REQUEST", "RESPONSE", "ENTRYPOINT_CONNECT", "INTERACT", "PUBLISH", "SUBSCRIBE")
        return ("REQUEST", "RESPONSE", "INTERACT", "CONNECT", "PUBLISH", "SUBSCRIBE")

    @property
    def spg_api_types(self) -> tuple[str, ...]:
        """``SharedPolicyGroupSpec.apiType``: ``SharedPolicyGroupApiType`` (PROXY, MESSAGE) from 4.12.0,
        the API's ``ApiType`` before."""
        return ("PROXY", "MESSAGE") if self.minor >= 12 else self.api_types

    # -- mAPI v2 ----------------------------------------------------------------------------------
    @property
    def metadata_expand(self) -> bool:
        return self._since(_METADATA_EXPAND_SINCE, 12)

    @property
    def detach(self) -> bool:
        return self._since(_DETACH_SINCE, 12)

    @property
    def sort_by_values(self) -> tuple[str, ...]:
        return _SORT_BY_48 if self.minor == 8 else _SORT_BY


def version_of(text: str | None) -> ApimVersion:
    return ApimVersion.parse(text or NEWEST)
