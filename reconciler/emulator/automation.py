"""Automation API (``/automation/organizations/{orgId}/environments/{envId}``): APIs and applications
written by HRID, as GKO >= 4.12 and the reconciler write them.

Read from the server (automation-rest ``resource/ApisResource``, ``ApiResource``, ``ApplicationsResource``,
``ApplicationResource``, ``spring/PermissionsFilter``; service ``ImportApiCRDUseCase``,
``ValidateApiCRDDomainService``, ``ImportApplicationCRDUseCase``, v4 ``ApiServiceImpl.delete``), in the
order the server does it:

* ``PUT /apis`` needs ``ENVIRONMENT_API[C|U]`` only (no membership: an API someone else owns is overwritten
  when its HRID, hence its crossId, matches); 4.8.x asks ``ENVIRONMENT_SHARED_POLICY_GROUP[C]``. Then the body
  is deserialized and bean-validated (:mod:`.validation`), duplicate plan or page HRIDs are a 400
  ``Duplicate hrid found in plans`` (``checkPlanAndPagesUnicity``, before the dry run), ids are derived
  (``CrdIdHelper``: crossId = u(org + hrid) unless the body has one, id = u(crossId + env), a plan without
  id gets u(u(org + apiHrid) + env + planHrid)), and the spec is validated (``ValidateApiCRDDomainService``:
  paths, categories, groups). A dry run answers 200 with the echo and ``errors`` (sorted) when there are
  any. Otherwise severe errors are a 400 ``Unable to import because of errors [a,b]`` (technical code
  ``invalid``), and the API is found by crossId: created (the caller becomes ``PRIMARY_OWNER``) or updated.
* The answer is the request spec as the generated model holds it plus the status ids, and ``errors``
  ``{severe: [], warning: [...]}`` (:mod:`.normalise`). The stored API, what a GET exports, is normalised.
* An update always redeploys when ``syncFrom`` is MANAGEMENT (always, for the Automation API), the state is
  STARTED and a plan is PUBLISHED or DEPRECATED (``handleLifeCycle``: there is no "unchanged" shortcut); it
  re-attaches a detached API (origin back to KUBERNETES); it refuses lifecycle moves ``ApiValidationServiceImpl``
  refuses (DEPRECATED -> only ARCHIVED, ARCHIVED final, UNPUBLISHED not back to CREATED) and a status change
  of a CLOSED plan. **Every** exception of an update becomes a 500 ``TechnicalManagementException`` (message
  ``<exception class>: <message>``, technical code ``unexpected``); a create lets domain errors through.
* ``GET``/``DELETE /apis/{hrid}`` need ``API_DEFINITION[R|D]`` *on the API*: a membership, or organization
  ADMIN; the filter checks the id derived from the path, so an unknown HRID is a 403 for anyone else, and
  from 4.12 an id passed with ``hridContainsUUID=true`` is checked as a UUID only with
  ``hridContainsApiUUID=true`` too. A missing API is 404 ``HRID [x] cannot be found.`` (``hrid.notFound``).
  The GET of a v2 API is a 400 (``ApiDefinitionVersionNotSupportedException``); the DELETE of any API closes
  its plans and deletes it, unless it is a STARTED API whose origin is MANAGEMENT (detached): 400
  ``API [id] is still running and must be stopped before being deleted !``.
* Applications: ``ENVIRONMENT_APPLICATION[C|U]`` for the PUT, ``APPLICATION_DEFINITION[R|D]`` on the
  application for GET/DELETE. A DELETE *archives* (status ARCHIVED, memberships and metadata removed,
  ``ApplicationServiceImpl.archive``): the application still exists and a later PUT with status ACTIVE
  restores it (``ImportApplicationCRDDomainServiceLegacyWrapper.update``).

Why one long module: the handlers follow one server flow (filter, deserialize, validate, derive ids,
dry run, import) shared by APIs and applications; the other kinds of issue 18 have their own modules.
"""

from __future__ import annotations

import copy
from typing import Any

from . import ids, normalise, roles, subscription_rules
from .context import Call, Route, owner_view
from .kinds_common import required_body
from .messages import AUTOMATION, HttpProblem, Response
from .store import ApiRecord, ApplicationRecord, EnvironmentData, normalize_path, valid_path
from .validation import api_v4_spec, application_spec, body_problem, validate
from .versions import ApimVersion

PREFIX = "/automation/organizations/{orgId}/environments/{envId}"
OPEN_PLANS = ("PUBLISHED", "DEPRECATED")
# ApiValidationServiceImpl.validateAndSanitizeLifecycleState: existing -> refused targets
_REFUSED_MOVES = {
    "DEPRECATED": {"CREATED", "PUBLISHED", "UNPUBLISHED"},
    "ARCHIVED": {"CREATED", "PUBLISHED", "UNPUBLISHED", "DEPRECATED"},
    "UNPUBLISHED": {"CREATED"},
}


class _TechnicalError(Exception):
    """A Java exception the update path wraps: ``name`` is its class, ``str(self)`` its message."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def _uuid_flag(call: Call) -> bool:
    """``hridContainsUUID`` from 4.12, ``legacy`` in 4.9-4.11 (the other spelling is ignored)."""
    flag = call.version.uuid_flag
    return flag is not None and call.request.flag(flag)


def _api_permission_ref(call: Call, ref: str) -> str:
    """The id ``PermissionsFilter`` checks for ``/apis/{apiHrid}``."""
    raw = call.request.flag("hridContainsApiUUID") if call.version.minor >= 12 else _uuid_flag(call)
    return ref if raw else ids.api_id(call.org_id, call.env_id, ref)


def _hrid_not_found(ref: str) -> HttpProblem:
    return HttpProblem(404, f"HRID [{ref}] cannot be found.", technical_code="hrid.notFound")


def _with_errors(
    state: dict[str, Any], severe: list[str], warning: list[str], always: bool
) -> dict[str, Any]:
    if always or severe or warning:
        state["errors"] = {"severe": sorted(severe), "warning": sorted(warning)}
    return state


def _unable(severe: list[str]) -> HttpProblem:
    return HttpProblem(
        400, f"Unable to import because of errors [{','.join(severe)}]", technical_code="invalid"
    )


def _technical(exc: Exception) -> HttpProblem:
    """``new TechnicalManagementException(e)``: the message is the cause's ``toString()``."""
    if isinstance(exc, _TechnicalError):
        text = f"{exc.name}: {exc}"
    elif isinstance(exc, HttpProblem):
        text = f"io.gravitee.rest.api.service.exceptions.{exc.technical_code or 'Management'}Exception: {exc.message}"
    else:
        text = f"java.lang.RuntimeException: {exc}"
    return HttpProblem(500, text, technical_code="unexpected")


# -- APIs -------------------------------------------------------------------------------------------
def _preview_body(body: dict[str, Any]) -> dict[str, Any]:
    """4.8.x: ``plans`` and ``pages`` are maps keyed by HRID and ``definitionContext`` is required."""
    if isinstance(body.get("plans"), list):
        raise HttpProblem(
            400,
            "Cannot deserialize value of type `java.util.LinkedHashMap<java.lang.String,PlanV4>` from Array value",
            technical_code="invalidValue",
            details=[{"message": "Cannot deserialize from Array value", "location": "plans"}],
        )
    if body.get("definitionContext") is None:
        raise HttpProblem(
            400,
            "Validation error",
            details=[{"message": "must not be null", "location": "definitionContext"}],
        )
    out = dict(body)
    for field in ("plans", "pages"):
        if isinstance(body.get(field), dict):
            out[field] = [dict(v or {}, hrid=k) for k, v in body[field].items()]
    return out


def api_state(record: ApiRecord) -> dict[str, Any]:
    """``ApiV4State`` of a V4 record: the stored (exported) spec plus ids."""
    state = dict(record.spec)  # shallow: serialized at once under the store lock
    state.update(
        id=record.id,
        crossId=record.cross_id,
        organizationId=record.org_id,
        environmentId=record.env_id,
    )
    if record.hrid:
        state["hrid"] = record.hrid
    else:
        state.pop("hrid", None)
    return state


def _metadata_key(name: str) -> str:
    from .mapi_v2 import metadata_key

    return metadata_key(name)


def _check_metadata_limits(call: Call, spec: dict[str, Any]) -> str | None:
    """JDBC ``metadata`` table: ``key nvarchar(64)``, ``value nvarchar(1024)`` (liquibase v1_14_0)."""
    if call.ctx.config.repository != "jdbc":
        return None
    for entry in spec.get("metadata") or []:
        key = str(entry.get("key") or _metadata_key(str(entry.get("name", ""))))
        value = entry.get("value")
        if len(key) > 64 or (isinstance(value, str) and len(value) > 1024):
            return key
    return None


def put_api(call: Call) -> Response:
    if call.version.automation_preview:
        call.require_env("SHARED_POLICY_GROUP", "C")
    else:
        call.require_env("API", "CU")
    body = required_body(call)
    if call.version.automation_preview:
        body = _preview_body(body)
    errors = validate(body, api_v4_spec(call.version))
    if errors:
        raise body_problem(errors)
    for field in ("plans", "pages"):
        hrids = [str(p.get("hrid")) for p in body.get(field) or [] if isinstance(p, dict)]
        if len(hrids) != len(set(hrids)):
            raise HttpProblem(400, f"Duplicate hrid found in {field}", technical_code="invalid")
    from . import groups, shared_policy_groups  # they import this module

    if call.version.minor >= 9:  # SharedPolicyGroupIdHelper.addSharedPolicyGroupIdFromHrid
        shared_policy_groups.add_ids_from_hrid(body, call.org_id)

    dry_run = call.request.flag("dryRun")
    data = call.ctx.store.env(call.org_id, call.env_id)
    echo = normalise.with_defaults(body, modern=call.version.minor >= 12)
    hrid = str(body["hrid"])
    by_uuid = _uuid_flag(call)
    if by_uuid:
        api_id = hrid
        cross_id = str(body.get("crossId") or ids.api_cross_id(call.org_id, hrid))
        stored_hrid: str | None = hrid if call.version.minor < 12 else None  # legacy kept the hrid
    else:
        cross_id = str(body.get("crossId") or ids.api_cross_id(call.org_id, hrid))
        api_id = ids.name_uuid(cross_id + call.env_id)
        stored_hrid = hrid
    existing_id = data.api_by_cross_id.get(cross_id)
    existing = data.apis.get(existing_id) if existing_id else None

    plans = [p for p in echo.get("plans") or [] if isinstance(p, dict)]
    plan_ids: dict[str, str] = {}
    plan_cross: dict[str, str] = {}
    for plan in plans:
        plan_hrid = str(plan["hrid"])
        if plan.get("id"):
            plan_ids[plan_hrid] = str(plan["id"])
        else:
            plan_ids[plan_hrid] = ids.plan_id(call.org_id, call.env_id, hrid, plan_hrid)
            plan_cross[plan_hrid] = ids.plan_cross_id(call.org_id, hrid, plan_hrid)

    env = call.env
    warnings: list[str] = []
    owner = owner_view(call.ctx, existing.members if existing else {call.user.id: roles.PRIMARY_OWNER})
    state = normalise.stored(
        echo,
        env_metadata=env.metadata,
        known_categories=frozenset(env.categories),
        known_groups=frozenset(env.groups) | groups.known_group_refs(data),
        env_id=call.env_id,
        warnings=warnings,
        sanitize_path=normalize_path,
        metadata_key=_metadata_key,
        primary_owner=owner,
    )
    for plan in state.get("plans") or []:
        plan["id"] = plan_ids[str(plan["hrid"])]
    record = ApiRecord(
        id=existing.id if existing else api_id,
        cross_id=cross_id,
        hrid=stored_hrid,
        org_id=call.org_id,
        env_id=call.env_id,
        definition_version="V4",
        spec=state,
        origin="KUBERNETES",
        sync_from="MANAGEMENT",
        plan_cross_ids={**(existing.plan_cross_ids if existing else {}), **plan_cross},
    )
    severe = _path_errors(data, record, echo)
    status = {
        "id": record.id,
        "crossId": cross_id,
        "organizationId": call.org_id,
        "environmentId": call.env_id,
    }
    echo_state = {**echo, **status}
    if stored_hrid is None:
        echo_state.pop("hrid", None)
    if dry_run:
        return Response.json(200, _with_errors(echo_state, severe, warnings, always=False))
    if severe:
        raise _unable(severe)
    if existing is None:
        _create_api(call, data, record, body)
    else:
        try:
            _update_api(call, data, existing, record, body)
        except Exception as exc:  # ImportApiCRDUseCase.update: catch (Exception e) -> 500
            raise _technical(exc) from None
    call.ctx.store.persist()
    if call.version.minor >= 9:  # removeSharedPolicyGroupId(spec) before the answer of a real PUT
        echo_state = shared_policy_groups.without_ids(echo_state)
    return Response.json(200, _with_errors(echo_state, [], warnings, always=True))


def _path_errors(data: EnvironmentData, record: ApiRecord, sent: dict[str, Any]) -> list[str]:
    """``VerifyApiPathDomainService.validateAndSanitize`` severe errors, in its order (an invalid path is
    reported as sent, the others sanitized)."""
    errors: list[str] = []
    seen: set[tuple[str, str]] = set()
    for listener in sent.get("listeners") or []:
        if not isinstance(listener, dict) or listener.get("type") != "HTTP":
            continue
        for path in listener.get("paths") or []:
            raw = path.get("path") if isinstance(path, dict) else None
            if isinstance(raw, str) and not valid_path(raw):
                errors.append(f"Path [{raw}] is invalid")
    for key in record.listener_paths():
        if key in seen:
            errors.append(f"Path [{key[1]}] is duplicated")
        seen.add(key)
    errors.extend(f"Path [{p}] already exists" for p in data.path_clashes(record))
    return errors


def _deployable(spec: dict[str, Any]) -> bool:
    """``ImportApiCRDUseCase.shouldDeploy``: STARTED and a PUBLISHED or DEPRECATED plan."""
    return spec.get("state") == "STARTED" and any(
        isinstance(p, dict) and p.get("status") in OPEN_PLANS for p in spec.get("plans") or []
    )


def _create_api(call: Call, data: EnvironmentData, record: ApiRecord, body: dict[str, Any]) -> None:
    if body.get("state") is None:  # Api.LifecycleState.valueOf(null) in ApiCRDSpec.toApiBuilder
        raise _technical(_TechnicalError("java.lang.NullPointerException", "Name is null"))
    now = call.ctx.store.now_ms()
    record.created_at = record.updated_at = now
    record.members = {call.user.id: roles.PRIMARY_OWNER}
    too_long = _check_metadata_limits(call, record.spec)
    if too_long is not None:
        # the API is created, then importApiMetadata fails: a TechnicalDomainException, which the
        # Automation application maps to nothing (no ThrowableMapper registered): a bare 500
        record.spec["metadata"] = [m for m in record.spec["metadata"] if m.get("key") == "email-support"]
        data.put_api(record)
        call.ctx.store.persist()
        raise HttpProblem(500, empty=True)
    if _deployable(record.spec):
        record.deployed_at = now
    data.put_api(record)


def _update_api(
    call: Call, data: EnvironmentData, existing: ApiRecord, record: ApiRecord, body: dict[str, Any]
) -> None:
    if existing.definition_version != "V4":
        raise _TechnicalError(
            "io.gravitee.apim.core.exception.ValidationDomainException",
            "Definition not supported, should be V4",
        )
    old_life = str(existing.spec.get("lifecycleState") or "CREATED")
    new_life = str(record.spec.get("lifecycleState") or old_life)
    if new_life != old_life and new_life in _REFUSED_MOVES.get(old_life, set()):
        raise _TechnicalError(
            "io.gravitee.rest.api.service.exceptions.LifecycleStateChangeNotAllowedException",
            f"The API lifecycle state cannot be changed to {new_life}.",
        )
    old_plans = {str(p.get("id")): p for p in existing.spec.get("plans") or [] if isinstance(p, dict)}
    for plan in record.spec.get("plans") or []:
        old = old_plans.get(str(plan.get("id")))
        if old is not None and old.get("status") == "CLOSED" and plan.get("status") != "CLOSED":
            raise _TechnicalError(
                "io.gravitee.apim.core.exception.ValidationDomainException",
                f"Invalid status for plan '{plan.get('name')}'",
            )
    if body.get("state") is None:
        raise _TechnicalError("java.lang.NullPointerException", "Name is null")
    too_long = _check_metadata_limits(call, record.spec)
    now = call.ctx.store.now_ms()
    record.created_at = existing.created_at
    record.updated_at = now
    record.deployed_at = existing.deployed_at
    record.members = dict(existing.members)
    # plans missing from the spec are deleted, their subscriptions closed first (handlePlanUpdate)
    kept = {str(p.get("id")) for p in record.spec.get("plans") or []}
    record.subscriptions = {k: v for k, v in existing.subscriptions.items() if k in kept}
    subscription_rules.close_plans_subscriptions(data, set(old_plans) - kept, call.user.id, now)
    if _deployable(record.spec):
        record.deployed_at = now
    if too_long is not None:  # the update, plans and deployment are done; importApiMetadata fails last
        record.spec["metadata"] = [m for m in existing.spec.get("metadata") or []]
        data.put_api(record)
        call.ctx.store.persist()
        raise _TechnicalError(
            "io.gravitee.apim.core.exception.TechnicalDomainException",
            f"An error occurs while trying to create the {too_long} metadata of [apiId={record.id}]",
        )
    data.put_api(record)


def _find_api(call: Call, data: EnvironmentData, ref: str) -> ApiRecord | None:
    api_id = ref if _uuid_flag(call) else ids.api_id(call.org_id, call.env_id, ref)
    return data.apis.get(api_id)


def _api_of_member(call: Call, data: EnvironmentData, permission: str) -> ApiRecord:
    """The API the path names, once the caller's API-DEFINITION permission on it is checked (the
    check comes first: a 403 tells nothing of whether the API exists)."""
    ref = call.request.params["hrid"]
    target = data.apis.get(_api_permission_ref(call, ref))
    call.require_member(roles.API, target.members if target else None, "DEFINITION", permission)
    record = _find_api(call, data, ref)
    if record is None:
        raise _hrid_not_found(ref)
    return record


def get_api(call: Call) -> Response:
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = _api_of_member(call, data, "R")
    if record.definition_version != "V4":
        raise HttpProblem(
            400,
            "The definition versions 2.0.0 is not supported anymore.",
            technical_code="api.definitionVersionNotSupported",
        )
    return Response.json(200, _exported(call, data, api_state(record)))


def _exported(call: Call, data: EnvironmentData, state: dict[str, Any]) -> dict[str, Any]:
    """``ApiResource.getApiByHRID`` after the export: ``removeSharedPolicyGroupId`` (4.9+) and
    ``replaceGroupNamesWithHrids`` (4.12+, the API's groups and its console notification's)."""
    from . import groups, shared_policy_groups  # they import this module

    if call.version.minor >= 9:
        state = shared_policy_groups.without_ids(state)
    if call.version.minor >= 12 and state.get("groups"):
        state["groups"] = groups.export_group_refs(data, state["groups"])
        notification = state.get("consoleNotification")
        if isinstance(notification, dict) and isinstance(notification.get("groups"), list):
            notification["groups"] = groups.export_group_refs(data, notification["groups"])
    return state


def delete_api(call: Call) -> Response:
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = _api_of_member(call, data, "D")
    delete_api_record(data, record, close_plans=True)
    call.ctx.store.persist()
    return Response.empty(204)


def _state_of(record: ApiRecord) -> str:
    return str(record.spec.get("state") or "STOPPED")


def delete_api_record(data: EnvironmentData, record: ApiRecord, *, close_plans: bool) -> None:
    """``ApiServiceImpl.delete`` (the v4 service, and the v2 one mAPI v1 uses: same rules here).

    A STARTED API whose origin is MANAGEMENT is refused (``ApiRunningStateException``). Without
    ``closePlans``, PUBLISHED plans block the delete (``ApiNotDeletableException``, plan names joined with
    ``, ``; the server collects them in a set, the emulator sorts them). The v2 service closes first and
    checks after, so with ``closePlans=true`` both services delete.
    """
    if record.origin == "MANAGEMENT" and _state_of(record) == "STARTED":
        raise HttpProblem(
            400,
            f"API [{record.id}] is still running and must be stopped before being deleted !",
            technical_code="api.running",
            parameters={"api": record.id},
        )
    plans = [p for p in record.spec.get("plans") or [] if isinstance(p, dict)]
    if not close_plans:
        published = sorted({str(p.get("name")) for p in plans if p.get("status") == "PUBLISHED"})
        if published:
            names = ", ".join(published)
            raise HttpProblem(
                400,
                f"Plan(s) [{names}] must be closed before being able to delete the API !",
                technical_code="api.notDeletable",
                parameters={"plans": names},
            )
    subscription_rules.delete_api_subscriptions(data, record.id)
    data.remove_api(record.id)


# -- applications -----------------------------------------------------------------------------------
def application_state(record: ApplicationRecord) -> dict[str, Any]:
    """``ApplicationState``: the stored application plus ids."""
    state = dict(record.spec)  # shallow: serialized at once under the store lock
    state.update(id=record.id, organizationId=record.org_id, environmentId=record.env_id)
    if record.hrid:
        state["hrid"] = record.hrid
    else:
        state.pop("hrid", None)
    return state


def _app_id(call: Call, ref: str) -> str:
    return ref if _uuid_flag(call) else ids.application_id(call.org_id, call.env_id, ref)


def _app_metadata(entries: list[Any], previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``createOrUpdateApplicationMetadata``: only a non-empty list replaces the metadata, matched by name;
    ``hidden`` is not an Automation ``Metadata`` property, so it is never stored."""
    if not entries:
        return previous
    out = []
    for entry in entries:
        if isinstance(entry, dict):
            item = {k: v for k, v in entry.items() if k in ("key", "name", "format", "value", "defaultValue")}
            item["key"] = str(entry.get("key") or _metadata_key(str(entry.get("name", ""))))
            out.append(item)
    return out


def put_application(call: Call) -> Response:
    call.require_env("APPLICATION", "CU")
    body = required_body(call)
    errors = validate(body, application_spec(call.version))
    if errors:
        raise body_problem(errors)
    echo = normalise.application_with_defaults(body)
    echo.pop("primaryOwner", None)  # readOnly, never read
    hrid = str(body["hrid"])
    by_uuid = _uuid_flag(call)
    app_id = hrid if by_uuid else ids.application_id(call.org_id, call.env_id, hrid)
    data = call.ctx.store.env(call.org_id, call.env_id)
    existing = data.apps.get(app_id)
    status = {"id": app_id, "organizationId": call.org_id, "environmentId": call.env_id}
    echo_state = {**echo, **status}
    if by_uuid and call.version.minor >= 12:
        echo_state.pop("hrid", None)
    if call.request.flag("dryRun"):
        return Response.json(200, echo_state)
    spec = {k: copy.deepcopy(v) for k, v in echo.items() if k not in ("notifyMembers",)}
    spec["metadata"] = _app_metadata(
        body.get("metadata") or [], existing.spec.get("metadata", []) if existing else []
    )
    spec["description"] = normalise.strip_html(spec.get("description")) or ""
    now = call.ctx.store.now_ms()
    if existing is not None:
        if existing.status == "ARCHIVED" and spec.get("status") != "ACTIVE":
            raise HttpProblem(
                400,
                f"Application [{existing.spec.get('name')}] is archived and cannot be modified.",
                technical_code="application.archived",
            )
        members = dict(existing.members) or {call.user.id: roles.PRIMARY_OWNER}
    else:
        members = {call.user.id: roles.PRIMARY_OWNER}
    record = ApplicationRecord(
        id=app_id,
        hrid=(hrid if call.version.minor < 12 else None) if by_uuid else hrid,
        org_id=call.org_id,
        env_id=call.env_id,
        spec=spec,
        created_at=existing.created_at if existing else now,
        updated_at=now,
        members=members,
    )
    data.put_app(record)
    call.ctx.store.persist()
    echo_state["errors"] = {"severe": [], "warning": []}
    return Response.json(200, echo_state)


def get_application(call: Call) -> Response:
    ref = call.request.params["hrid"]
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = data.apps.get(_app_id(call, ref))
    call.require_member(roles.APPLICATION, record.members if record else None, "DEFINITION", "R")
    if record is None:
        raise _hrid_not_found(ref)
    return Response.json(200, application_state(record))


def delete_application(call: Call) -> Response:
    ref = call.request.params["hrid"]
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = data.apps.get(_app_id(call, ref))
    call.require_member(roles.APPLICATION, record.members if record else None, "DEFINITION", "D")
    if record is None:
        raise _hrid_not_found(ref)
    now = call.ctx.store.now_ms()
    subscription_rules.archive_application_subscriptions(data, record.id, call.user.id, now)
    archived = ApplicationRecord(
        **{
            **record.__dict__,
            "spec": {**record.spec, "status": "ARCHIVED", "metadata": []},
            "members": {},
            "updated_at": now,
        }
    )
    data.put_app(archived)
    call.ctx.store.persist()
    return Response.empty(204)


def _has_applications(version: ApimVersion) -> bool:
    """4.8.x's Automation API has no ``/applications`` (its open-api.yaml: apis and shared policy groups)."""
    return not version.automation_preview


ROUTES = [
    Route("PUT", PREFIX + "/apis", put_api, AUTOMATION),
    Route("GET", PREFIX + "/apis/{hrid}", get_api, AUTOMATION),
    Route("DELETE", PREFIX + "/apis/{hrid}", delete_api, AUTOMATION),
    Route("PUT", PREFIX + "/applications", put_application, AUTOMATION, _has_applications),
    Route("GET", PREFIX + "/applications/{hrid}", get_application, AUTOMATION, _has_applications),
    Route("DELETE", PREFIX + "/applications/{hrid}", delete_application, AUTOMATION, _has_applications),
]
