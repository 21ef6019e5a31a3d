"""Groups: the Automation API's ``/groups`` (4.12.0 and later) and the mAPI v2 listing.

Read from the server (automation-rest ``resource/GroupsResource``, ``GroupResource``, ``mapper/GroupMapper``;
service ``ImportGroupCRDUseCase``, ``ValidateGroupCRDUseCase``, ``ValidateGroupCRDDomainServiceImpl``,
``ValidateCRDMembersDomainService``, ``CRDMembersDomainServiceImpl``, ``GroupServiceImpl.delete``), in the
server's order:

* ``PUT /groups`` needs ``ENVIRONMENT_GROUP[C|U]``. Role scopes in ``members[].roles`` are read with
  ``RoleScope.valueOf`` by the mapper, before any validation: an unknown (or lower-case) scope is an
  exception no mapper handles, a bare 500. The id is u(u(org + hrid) + env), or the hrid itself with
  ``hridContainsUUID=true`` (then the group has no HRID); it must parse as a UUID (``property [id] must be
  a valid UUID``, severe).
* Members: every member gets the default role (``USER``) of each of the scopes API, APPLICATION and
  INTEGRATION it does not name; then, per scope, a member whose ``source``/``sourceId`` is no user of the
  organization is dropped with the warning ``member [x] of source [s] could not be found in organization
  [O]``; a role that does not exist in its scope is the warning ``member role [R] doesn't exist`` (the member
  stays and is given the scope's default role on import); ``PRIMARY_OWNER`` is the severe ``setting a member
  with the primary owner role is not allowed`` (and stops that scope's check); the caller itself is the
  severe ``can not change the role of primary owner [sourceId]``. Messages are sorted and de-duplicated.
* A dry run answers the echo with the id, ``memberCount`` (members kept) and ``errors`` only when there
  are any. Otherwise severe errors are a 400 ``Unable to import because of errors [a,b]``; the group is
  created or updated (name, ``disableMembershipNotifications = !notifyMembers``, origin KUBERNETES), its
  memberships replaced (members no longer listed are removed) and the answer carries ``errors {severe: [],
  warning: [...]}``.
* The answer is the request as the generated model holds it (``notifyMembers`` defaults to true,
  ``members`` to ``[]``, a member's ``roles`` to ``{}``) plus ``id``, ``environmentId``,
  ``organizationId``, ``memberCount``: members are echoed as sent, not as stored.
* ``GET /groups/{hrid}`` (``ENVIRONMENT_GROUP[R]``) reads the stored group: ``hrid``, ``name``,
  ``notifyMembers``, ``members`` with every scope's role, ``memberCount``; no ``errors``. ``DELETE``
  (``[D]``) removes the group, its memberships and its name from the APIs and applications that list it.
  Unknown: 404 ``HRID [x] cannot be found.``
* mAPI v2 ``GET /groups`` (``ENVIRONMENT_GROUP[R]``, ``GroupServiceImpl.findAll``): every group of the
  environment sorted by name, paginated.
"""

from __future__ import annotations

from typing import Any

from . import ids, roles
from .automation import PREFIX, _hrid_not_found, _unable
from .context import Call, Route
from .kind_schemas import group_spec
from .kinds_common import (
    SEVERE,
    WARNING,
    Problem,
    errors_of,
    java_uuid,
    severe_messages,
    spec_body,
    unmapped_500,
)
from .mapi_v2 import PREFIX as V2_PREFIX
from .mapi_v2 import PREFIX_WITHOUT_ORG, _int_arg, _respond_page, iso
from .messages import AUTOMATION, MAPI_V2, Response
from .records import GroupRecord
from .store import EnvironmentData
from .versions import ApimVersion

MEMBER_SCOPES = (roles.API, roles.APPLICATION, roles.INTEGRATION)
# core RoleScope (the names RoleScope.valueOf accepts)
_ROLE_SCOPES = frozenset(roles.ROLE_SCOPES)


def _echo(body: dict[str, Any]) -> dict[str, Any]:
    """``GroupSpec`` as the generated model holds the request: an absent ``members`` is ``[]``, an absent
    ``notifyMembers`` true, an explicit ``null`` stays null (and is not written)."""
    echo: dict[str, Any] = {"hrid": body["hrid"], "name": body["name"]}
    if "members" not in body or body["members"] is not None:
        echo["members"] = []
        for member in body.get("members") or []:
            item = {k: member[k] for k in ("source", "sourceId", "roles") if k in member}
            item.setdefault("roles", {})
            echo["members"].append(item)
    if "notifyMembers" not in body:
        echo["notifyMembers"] = True
    elif body["notifyMembers"] is not None:
        echo["notifyMembers"] = body["notifyMembers"]
    return echo


def _role_exists(call: Call, scope: str, role: str) -> bool:
    """``ValidateCRDMembersDomainService.findRole``: a UUID is looked up by id (any scope), else by name."""
    role_id = java_uuid(role)
    registry = call.ctx.directory.roles.get(call.org_id)
    if role_id is not None:
        return registry is not None and role_id in registry.by_id
    return roles.definition(scope, role) is not None


def _stored_role(call: Call, scope: str, role: str) -> str:
    """``CRDMembersDomainServiceImpl.findRoleEntity``: by name in the scope, else by id, else the default."""
    if roles.definition(scope, role) is not None:
        return role
    registry = call.ctx.directory.roles.get(call.org_id)
    found = registry.by_id.get(java_uuid(role) or "") if registry is not None else None
    if found is not None:
        return found.name
    return roles.default_role(scope) or "USER"


def sanitize_members(
    call: Call, members: list[dict[str, Any]]
) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """``ValidateGroupCRDDomainServiceImpl.validateAndSanitizeMembers``: user id -> {scope: role}."""
    problems: list[Problem] = []
    out: dict[str, dict[str, str]] = {}
    if not members:
        return out, problems
    filled = []
    for member in members:
        member_roles = dict(member.get("roles") or {})
        for scope in MEMBER_SCOPES:
            member_roles.setdefault(scope, roles.default_role(scope) or "USER")
        filled.append((str(member["source"]), str(member["sourceId"]), member_roles))
    accounts = call.ctx.directory.accounts
    for scope in MEMBER_SCOPES:
        # GroupCRDAdapter.toMemberCRDSet: a LinkedHashSet of (id, source, sourceId, role)
        crds = list(dict.fromkeys((source, source_id, r[scope]) for source, source_id, r in filled))
        kept: list[tuple[str, str, str, str]] = []
        for source, source_id, role in crds:
            account = accounts.find_by_source(call.org_id, source, source_id)
            if account is None:
                problems.append(
                    Problem(
                        WARNING,
                        f"member [{source_id}] of source [{source}] could not be found in organization [{call.org_id}]",
                    )
                )
                continue
            kept.append((account.id, source, source_id, role))
        for _user_id, _source, _source_id, role in kept:
            if not _role_exists(call, scope, role):
                problems.append(Problem(WARNING, f"member role [{role}] doesn't exist"))
        checked: list[tuple[str, str, str, str]] = []
        for index, (user_id, source, source_id, role) in enumerate(kept):
            if role == roles.PRIMARY_OWNER:
                problems.append(
                    Problem(SEVERE, "setting a member with the primary owner role is not allowed")
                )
                checked.extend(kept[index + 1 :])  # validatePrimaryOwner returns at the first one
                break
            if user_id == call.user.id:
                problems.append(Problem(SEVERE, f"can not change the role of primary owner [{source_id}]"))
                continue
            checked.append((user_id, source, source_id, role))
        for user_id, _source, _source_id, role in checked:
            out.setdefault(user_id, {})[scope] = role
    return out, problems


def _group_id(call: Call, hrid: str, by_uuid: bool) -> tuple[str, list[Problem]]:
    """``CrdIdHelper.generateGroupId``, then ``validateAndSanitizeId`` (UUID.fromString)."""
    raw = hrid if by_uuid else ids.top_level_id(call.org_id, call.env_id, hrid)
    sanitized = java_uuid(raw)
    if sanitized is None:
        return raw, [Problem(SEVERE, "property [id] must be a valid UUID")]
    return sanitized, []


def put_group(call: Call) -> Response:
    call.require_env("GROUP", "CU")
    body = spec_body(call, group_spec(call.version))
    for member in body.get("members") or []:
        if any(scope not in _ROLE_SCOPES for scope in (member.get("roles") or {})):
            raise unmapped_500()  # GroupMapper.stringMapToRoleScopeMap: RoleScope.valueOf
    echo = _echo(body)
    hrid = str(body["hrid"])
    by_uuid = call.request.flag("hridContainsUUID")
    group_id, problems = _group_id(call, hrid, by_uuid)
    members, member_problems = sanitize_members(call, body.get("members") or [])
    problems += member_problems
    state = {**echo, "id": group_id, "environmentId": call.env_id, "organizationId": call.org_id}
    state["memberCount"] = len(members)
    if call.request.flag("dryRun"):
        if problems:
            state["errors"] = errors_of(problems, distinct=True)
        return Response.json(200, state)
    severe = severe_messages(problems)
    if severe:
        raise _unable(severe)
    data = call.ctx.store.env(call.org_id, call.env_id)
    existing = data.kinds.groups.get(group_id)
    now = call.ctx.store.now_ms()
    data.kinds.groups[group_id] = GroupRecord(
        id=group_id,
        hrid=None if by_uuid else hrid,
        org_id=call.org_id,
        env_id=call.env_id,
        name=str(body["name"]),
        # GroupCRDSpec.notifyMembers is a primitive: a null one is false
        disable_membership_notifications=not echo.get("notifyMembers", False),
        members={
            user_id: {scope: _stored_role(call, scope, role) for scope, role in scoped.items()}
            for user_id, scoped in members.items()
        },
        created_at=existing.created_at if existing else now,
        updated_at=now,
    )
    call.ctx.store.persist()
    state["errors"] = errors_of([p for p in problems if p.severity == WARNING], distinct=True)
    return Response.json(200, state)


def _find(call: Call, data: EnvironmentData) -> GroupRecord | None:
    ref = call.request.params["hrid"]
    group_id = (
        ref if call.request.flag("hridContainsUUID") else ids.top_level_id(call.org_id, call.env_id, ref)
    )
    return data.kinds.groups.get(group_id)


def group_state(call: Call, record: GroupRecord) -> dict[str, Any]:
    """``GroupMapper.groupToGroupState``: the stored group and its memberships."""
    by_id = call.ctx.directory.accounts.by_id
    members = []
    for user_id, scoped in record.members.items():
        account = by_id.get(user_id)
        if account is not None:
            members.append({"source": account.source, "sourceId": account.source_id, "roles": dict(scoped)})
    state: dict[str, Any] = {"name": record.name, "members": members}
    if record.hrid is not None:
        state["hrid"] = record.hrid
    state["notifyMembers"] = not record.disable_membership_notifications
    state.update(
        id=record.id, environmentId=record.env_id, organizationId=record.org_id, memberCount=len(members)
    )
    return state


def get_group(call: Call) -> Response:
    call.require_env("GROUP", "R")
    record = _find(call, call.ctx.store.env(call.org_id, call.env_id))
    if record is None:
        raise _hrid_not_found(call.request.params["hrid"])
    return Response.json(200, group_state(call, record))


def delete_group(call: Call) -> Response:
    call.require_env("GROUP", "D")
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = _find(call, data)
    if record is None:
        raise _hrid_not_found(call.request.params["hrid"])
    del data.kinds.groups[record.id]
    _forget_group(call, data, record)
    call.ctx.store.persist()
    return Response.empty(204)


def _forget_group(call: Call, data: EnvironmentData, record: GroupRecord) -> None:
    """``GroupServiceImpl.delete``: the group leaves every API (and its console notification) and every
    application of the environment; their ``updatedAt`` moves."""
    names = {record.id, record.name} | ({record.hrid} if record.hrid else set())
    now = call.ctx.store.now_ms()
    for api in list(data.apis.values()):
        groups = api.spec.get("groups") or []
        if any(g in names for g in groups):
            api.spec["groups"] = [g for g in groups if g not in names]
            notification = api.spec.get("consoleNotification")
            if isinstance(notification, dict) and isinstance(notification.get("groups"), list):
                notification["groups"] = [g for g in notification["groups"] if g not in names]
            api.updated_at = now
            data.put_api(api)
    for app in list(data.apps.values()):
        groups = app.spec.get("groups") or []
        if any(g in names for g in groups):
            app.spec["groups"] = [g for g in groups if g not in names]
            app.updated_at = now


def known_group_refs(data: EnvironmentData) -> frozenset[str]:
    """What ``ValidateGroupsDomainService`` finds among an API's ``groups``: ids, HRIDs and names."""
    out: set[str] = set()
    for group in data.kinds.groups.values():
        out.update(x for x in (group.id, group.hrid, group.name) if x)
    return frozenset(out)


def export_group_refs(data: EnvironmentData, refs: list[Any]) -> list[Any]:
    """``ApiResource.replaceGroupNamesWithHrids`` (4.12.0 and later): a group the export names is shown by
    its HRID when it has one (stored ids are exported as names first, ``getGroupNames``)."""
    by_ref: dict[str, GroupRecord] = {}
    for record in data.kinds.groups.values():
        for key in (record.id, record.name, record.hrid):
            if key:
                by_ref.setdefault(key, record)
    out = []
    for ref in refs:
        found = by_ref.get(ref) if isinstance(ref, str) else None
        out.append(found.hrid or found.name if found is not None else ref)
    return out


# -- mAPI v2 ----------------------------------------------------------------------------------------
def _group_view(call: Call, record: GroupRecord, manageable: bool) -> dict[str, Any]:
    """mAPI v2 ``Group`` (``GroupMapper.map(GroupEntity)``) of a group the Automation API made."""
    return {
        "id": record.id,
        "name": record.name,
        "eventRules": [],
        "manageable": manageable,
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
        "maxInvitation": 2147483647,
        "lockApiRole": False,
        "lockApplicationRole": False,
        "lockApiProductRole": False,
        "systemInvitation": False,
        "emailInvitation": False,
        "disableMembershipNotifications": record.disable_membership_notifications,
        "primaryOwner": False,
    }


def list_groups(call: Call) -> Response:
    """``GroupsResource.listGroups``: ``findAll`` sorted by name (``Comparator.comparing(getName)``), then a
    page; ``manageable`` for callers with ``ENVIRONMENT_GROUP[C|U|D]``."""
    call.require_env("GROUP", "R")
    page = _int_arg(call, "page", 1)
    per_page = _int_arg(call, "perPage", 10)
    data = call.ctx.store.env(call.org_id, call.env_id)
    ordered = sorted(data.kinds.groups.values(), key=lambda g: g.name.encode("utf-16-be"))
    manageable = call.has_env("GROUP", "CUD")
    chunk = ordered[(page - 1) * per_page : page * per_page]
    return _respond_page(
        call, [_group_view(call, g, manageable) for g in chunk], len(ordered), page, per_page
    )


def _available(version: ApimVersion) -> bool:
    return version.has_groups_and_dictionaries


ROUTES = [
    Route("PUT", PREFIX + "/groups", put_group, AUTOMATION, _available),
    Route("GET", PREFIX + "/groups/{hrid}", get_group, AUTOMATION, _available),
    Route("DELETE", PREFIX + "/groups/{hrid}", delete_group, AUTOMATION, _available),
    *(Route("GET", prefix + "/groups", list_groups, MAPI_V2) for prefix in (V2_PREFIX, PREFIX_WITHOUT_ORG)),
]
