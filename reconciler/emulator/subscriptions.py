"""Subscriptions of applications to API plans: the Automation API's ``/apis/{apiHrid}/subscriptions``
(4.9.0 and later) and the mAPI v2 reads of subscriptions and their API keys.

Read from the server (automation-rest ``resource/ApiSubscriptionsResource``, ``ApiSubscriptionResource``,
``mapper/SubscriptionMapper``, ``spring/PermissionsFilter``; service ``ImportSubscriptionCRDUseCase``,
``ValidateSubscriptionCRDDomainService``, ``SubscriptionCRDDomainServiceImpl``, ``SubscriptionServiceImpl``
(``create``, ``update``, ``restore``), ``SubscriptionValidationServiceImpl``, ``SubscriptionMetadataSanitizer``,
``AcceptSubscriptionDomainService``, ``GenerateApiKeyDomainService``, ``ReconcileApiKeysDomainService``,
``CloseSubscriptionDomainService``; at the 4.9-4.11 tags for the older contract):

* Every endpoint needs ``API_SUBSCRIPTION`` on the API (a membership, or organization ADMIN), the API id
  derived from the path (``hridContainsApiUUID=true``: the path is the id; 4.9-4.11: ``legacy=true``).
* Ids: subscription u(u(org + apiHrid) + env + hrid), application u(u(org + appHrid) + env), API
  u(u(org + apiHrid) + env), plan u(u(org + apiHrid) + env + planHrid); ``hridContainsUUID``,
  ``hridContainsApiUUID`` (API and plan) and ``hridContainsAppUUID`` take the values as ids (4.12+; one
  ``legacy`` flag for all before). Nothing is looked up before the import: an unknown API or plan is a
  404 ``Plan [id] cannot be found.``, an unknown application a 404 ``Application [id] cannot be found.``
* ``apiKeys`` (4.12+) are checked first: only on an API_KEY plan (``apiKeys is only allowed for API_KEY
  plans (plan: id)``), non-empty, 32 to 256 characters, no duplicate: the first failure is a 400 ``Unable
  to import because of errors [...]``. There is no dry run.
* Create (``SubscriptionServiceImpl.create``): DEPRECATED, CLOSED, STAGING plans, keyless plans, plans with
  general conditions, archived applications, a second active subscription of the application to the same
  plan (or to another mTLS, or OAuth2/JWT, plan of the API), OAuth2/JWT without a client id, mTLS without a
  client certificate, a push plan without ``consumerConfiguration.entrypointId``: each its 400. Then the
  subscription is created PENDING, auto-accepted ("Kubernetes subscriptions are always auto accepted",
  ``startingAt`` now) and, for an API_KEY plan, given a key: the first of ``apiKeys`` or a random one
  (expiring at ``endingAt``; a key already used on this API, or an ``endingAt`` in the past, is a 400
  after the subscription was stored PENDING). Then the keys are reconciled.
* Update: plan and application cannot change (4.10.9+: 400 ``Subscription [id] plan cannot be changed``);
  a CLOSED subscription is restored and accepted again (4.10.9+; before, a 400 ``cannot be updated because
  of its status``); ``endingAt`` (and the active keys' expiry on API_KEY plans), ``metadata`` (4.11+) and
  ``consumerConfiguration`` (4.12+; an absent one keeps the stored one) are updated.
* Key reconciliation (4.12+, only when ``apiKeys`` is not empty): a listed key that is missing is created,
  a revoked one reactivated, an active one gets the listed ``expireAt`` (absent: no expiry); an active key
  not listed is **revoked**. An empty or absent list changes nothing.
* The answer is the request echo (``apiKeys`` included, ``metadata`` ``{}`` by default) plus ``id``,
  ``apiHrid``, ``startingAt``, ``endingAt`` (as stored), ``errors {severe: [], warning: []}``.
* ``GET .../subscriptions/{hrid}`` reads it back: ``applicationHrid`` and ``planHrid`` from the stored
  application and plan (a plan deleted since: 404 ``Plan [id] cannot be found.``), ``metadata`` and
  ``consumerConfiguration`` (4.12+), no status, never the keys. ``DELETE`` closes it (keys revoked; a
  PENDING one is rejected; again: no-op), from 4.9.18, 4.10.13 and 4.11.3; before, it deletes the record.
  Unknown: 404 ``HRID [x] cannot be found.``
* mAPI v2 ``GET /apis/{apiId}/subscriptions`` (``statuses`` default ACCEPTED, ``applicationIds``,
  ``planIds``, ``apiKey``; newest first), ``GET .../subscriptions/{id}`` and ``GET .../{id}/api-keys``.

Why one long module: the create, update, key reconciliation and close flows above are one state
machine over one subscription and its keys, in the server's order; split, the rules of a state would
live apart from its transitions.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass, replace
from typing import Any

from . import dates, ids, roles
from .automation import PREFIX, _api_permission_ref, _hrid_not_found, _unable
from .context import Call, Route
from .kind_schemas import subscription_spec
from .kinds_common import spec_body, unmapped_500
from .mapi_v2 import PREFIX as V2_PREFIX
from .mapi_v2 import PREFIX_WITHOUT_ORG, _int_arg, _respond_page, iso
from .messages import AUTOMATION, MAPI_V2, HttpProblem, Response
from .records import ApiKeyRecord, SubscriptionRecord
from .store import ApiRecord, ApplicationRecord, EnvironmentData
from .subscription_rules import close
from .versions import ApimVersion

ACCEPT_REASON = "Kubernetes subscriptions are always auto accepted"
_METADATA_KEY = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_HTML_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Target:
    """The ids a subscription PUT or read names (``SubscriptionCRDSpec``)."""

    subscription_id: str
    api_id: str
    plan_id: str
    application_id: str


@dataclass(frozen=True)
class Desired:
    """One ``ApiKeyCRDSpec``: the key and its expiry (epoch millis)."""

    key: str
    expire_at: int | None


def _flags(call: Call) -> tuple[bool, bool, bool]:
    """(subscription, API and plan, application) given as UUIDs."""
    flag = call.request.flag
    if call.version.minor >= 12:
        return flag("hridContainsUUID"), flag("hridContainsApiUUID"), flag("hridContainsAppUUID")
    legacy = flag("legacy")
    return legacy, legacy, legacy


def _require(call: Call, acls: str) -> None:
    """``PermissionsFilter``: ``API_SUBSCRIPTION`` on the API of the path."""
    data = call.ctx.store.env(call.org_id, call.env_id)
    api = data.apis.get(_api_permission_ref(call, call.request.params["apiHrid"]))
    call.require_member(roles.API, api.members if api else None, "SUBSCRIPTION", acls)


def _date(value: Any, location: str) -> int | None:
    try:
        return dates.parse(value)
    except dates.DateTimeError:
        message = f"Cannot deserialize value of type `java.time.OffsetDateTime` from String {value!r}"
        raise HttpProblem(
            400, message, technical_code="invalidValue", details=[{"message": message, "location": location}]
        ) from None


def _plan(data: EnvironmentData, plan_id: str) -> tuple[ApiRecord, dict[str, Any]]:
    """``planSearchService.findById``: the plan with that id in any API of the environment."""
    for api in data.apis.values():
        for plan in api.spec.get("plans") or []:
            if isinstance(plan, dict) and plan.get("id") == plan_id:
                return api, plan
    raise HttpProblem(
        404,
        f"Plan [{plan_id}] cannot be found.",
        technical_code="plan.notFound",
        parameters={"plan": plan_id},
    )


def security_type(plan: dict[str, Any]) -> str:
    """``PlanSecurityType.valueOfLabel`` of a v4 plan (``security.type``) or a v2 one (``security``)."""
    security = plan.get("security")
    raw = security.get("type") if isinstance(security, dict) else security
    text = str(raw or "KEY_LESS").upper().replace("-", "_")
    return "KEY_LESS" if text == "KEYLESS" else text


def _mode(plan: dict[str, Any]) -> str:
    return str(plan.get("mode") or "STANDARD").upper()


def _application(data: EnvironmentData, application_id: str) -> ApplicationRecord:
    record = data.apps.get(application_id)
    if record is None:
        raise HttpProblem(
            404,
            f"Application [{application_id}] cannot be found.",
            technical_code="application.notFound",
            parameters={"application": application_id},
        )
    return record


def _bad(message: str, code: str, parameters: dict[str, str] | None = None) -> HttpProblem:
    return HttpProblem(400, message, technical_code=code, parameters=parameters)


def _sanitize_metadata(metadata: dict[str, Any] | None) -> dict[str, str] | None:
    """``SubscriptionMetadataSanitizer.sanitizeAndValidate``: key format, HTML tags stripped, blanks gone."""
    if metadata is None:
        return None
    out: dict[str, str] = {}
    for key, value in metadata.items():
        if not _METADATA_KEY.match(key):
            raise _bad(f"Invalid metadata key: {key}", "subscription.metadata.key.invalid", {})
        cleaned = _HTML_TAG.sub("", value).strip() if isinstance(value, str) else None
        if cleaned:
            out[key] = cleaned
    return out


def _check_configuration(plan: dict[str, Any], configuration: dict[str, Any] | None) -> None:
    """``SubscriptionValidationServiceImpl.validateAndSanitizeSubscriptionConfiguration`` (the entrypoint
    plugin's schema is not modelled)."""
    if _mode(plan) == "PUSH" and not (configuration or {}).get("entrypointId"):
        raise _bad(
            "Subscription configuration must contain entrypoint id", "subscription.entrypoint.missing", {}
        )


def _settings(app: ApplicationRecord, name: str) -> dict[str, Any]:
    settings = app.spec.get("settings")
    part = settings.get(name) if isinstance(settings, dict) else None
    return part if isinstance(part, dict) else {}


def _client_id(app: ApplicationRecord) -> str | None:
    """The client id a SIMPLE application (``settings.app``) or an OAuth one (``settings.oauth``) has."""
    simple = _settings(app, "app")
    value = simple.get("clientId") if simple else _settings(app, "oauth").get("clientId")
    return str(value) if value is not None else None


def _has_certificate(app: ApplicationRecord) -> bool:
    """``extractAndEncodeClientCertificate``: ``tls.clientCertificates``, else ``tls.clientCertificate``."""
    tls = _settings(app, "tls")
    if tls.get("clientCertificates") is not None:
        return bool(tls["clientCertificates"])
    return bool(tls.get("clientCertificate"))


def _check_plan(plan: dict[str, Any]) -> str | None:
    """``SubscriptionServiceImpl.create``'s plan refusals, in its order; the plan's security type (STANDARD)."""
    plan_id = str(plan["id"])
    status = str(plan.get("status") or "").upper()
    if status == "DEPRECATED":
        raise _bad(plan_id, "plan.notSubscribable")
    if status == "CLOSED":
        raise _bad(f"Plan {plan_id} is already closed !", "plan.closed", {"plan": plan_id})
    if status == "STAGING":
        raise _bad(f"Plan {plan_id} is not yet published !", "plan.notPublished", {"plan": plan_id})
    security = security_type(plan) if _mode(plan) == "STANDARD" else None
    if security == "KEY_LESS":
        raise _bad("A keyless plan is not subscribable!", "plan.notSubscribable")
    if plan.get("generalConditionsHrid") or plan.get("generalConditions"):
        name = str(plan.get("name"))
        message = f"Plan {name} require acceptance of general conditions !"
        raise _bad(message, "plan.general_conditions_accept", {"plan": name})
    return security


def _check_application(
    data: EnvironmentData,
    api: ApiRecord,
    plan: dict[str, Any],
    security: str | None,
    app: ApplicationRecord,
    configuration: Any,
) -> None:
    """The application's refusals, after the plan's: archived, already subscribed, credentials."""
    plan_id = str(plan["id"])
    if app.status == "ARCHIVED":
        name = str(app.spec.get("name"))
        message = f"Application [{name}] is archived and cannot be modified."
        raise _bad(message, "application.archived", {"application": name})
    active = [
        s
        for s in data.kinds.subscriptions_of_api(api.id)
        if s.application_id == app.id and s.status not in ("REJECTED", "CLOSED")
    ]
    if any(s.plan_id == plan_id and _same_channel(s, plan, configuration) for s in active):
        message = "There is already a PENDING or ACCEPTED subscription for this plan."
        raise _bad(message, "plan.subscribed", {"plan": plan_id})
    others = {security_type(p) for p in _plans_of(api, {s.plan_id for s in active}) if _mode(p) == "STANDARD"}
    if security == "MTLS" and "MTLS" in others:
        raise _bad(
            "An other mTLS plan is already subscribed by the same application.", "plan.otherMtlsSubscribed"
        )
    multi = bool(api.spec.get("allowMultiJwtOauth2Subscriptions"))
    if security in ("OAUTH2", "JWT") and others & {"OAUTH2", "JWT"} and not multi:
        raise _bad(
            "An other OAuth2 or JWT plan is already subscribed by the same application.",
            "plan.otherOAuth2OrJWTSubscribed",
        )
    if security in ("OAUTH2", "JWT") and not (_client_id(app) or "").strip():
        raise _bad("A client_id is required to subscribe to an OAuth2 or JWT plan.", "plan.notSubscribable")
    if security == "MTLS" and not _has_certificate(app):
        raise _bad(
            "You cannot subscribe to a mTLS plan without a client_certificate configured at application level",
            "plan.notSubscribableWithoutClientCertificate",
        )


def _same_channel(existing: SubscriptionRecord, plan: dict[str, Any], configuration: Any) -> bool:
    """A PUSH plan may be subscribed once per channel."""
    if _mode(plan) != "PUSH":
        return True
    if existing.configuration is None or configuration is None:
        return existing.configuration is None and configuration is None
    return bool(existing.configuration.get("channel") == configuration.get("channel"))


def _plans_of(api: ApiRecord, plan_ids: set[str]) -> list[dict[str, Any]]:
    return [p for p in api.spec.get("plans") or [] if isinstance(p, dict) and p.get("id") in plan_ids]


# -- API keys -----------------------------------------------------------------------------------------
def _generate_key(
    call: Call, data: EnvironmentData, record: SubscriptionRecord, value: str | None, now: int
) -> ApiKeyRecord:
    """``GenerateApiKeyDomainService.generate`` (custom keys are never reused: ``allowCustomReuse`` is off by
    default) and ``ApiKeyEntity.generateForSubscription``."""
    kinds = data.kinds
    if value:
        for other in kinds.subscriptions_of_api(record.api_id):
            if any(k.key == value for k in kinds.keys_of(other.id)):
                raise _bad("API Key already exists", "apiKey.existing")
    if record.ending_at is not None and record.ending_at < now:
        raise _bad(
            f"Subscription [{record.id}] is closed. You must request for a new subscription",
            "subscription.closed",
            {"subscription": record.id},
        )
    key = ApiKeyRecord(
        id=str(uuid.uuid4()),
        key=value or str(uuid.uuid4()),
        application_id=record.application_id,
        env_id=record.env_id,
        org_id=record.org_id,
        subscriptions=[record.id],
        expire_at=record.ending_at,
        created_at=now,
        updated_at=now,
    )
    kinds.put_key(key)
    return key


def _reconcile_keys(
    call: Call, data: EnvironmentData, record: SubscriptionRecord, desired: list[Desired], now: int
) -> None:
    """``ReconcileApiKeysDomainService.reconcile``."""
    if not desired:
        return
    kinds = data.kinds
    existing: dict[str, ApiKeyRecord] = {}
    for key in kinds.keys_of(record.id):
        existing.setdefault(key.key, key)
    for want in desired:
        found = existing.get(want.key)
        if found is None:
            created = _generate_key(call, data, record, want.key, now)
            if want.expire_at is not None:
                created.expire_at = want.expire_at
        elif found.revoked:
            found.revoked, found.revoked_at, found.updated_at = False, None, now
            if want.expire_at is not None:
                found.expire_at = want.expire_at
        elif want.expire_at != found.expire_at:
            found.expire_at, found.updated_at = want.expire_at, now
    wanted = {w.key for w in desired}
    for value, key in existing.items():
        if value not in wanted and key.can_be_revoked(now):
            key.revoked, key.revoked_at, key.updated_at = True, now, now


def _desired_keys(call: Call, body: dict[str, Any]) -> list[Desired]:
    if "apiKeys" not in call.version.subscription_fields:
        return []
    return [
        Desired(str(k["key"]), _date(k.get("expireAt"), f"apiKeys[{i}].expireAt"))
        for i, k in enumerate(body.get("apiKeys") or [])
    ]


def _validate_keys(data: EnvironmentData, target: Target, desired: list[Desired]) -> None:
    """``ValidateSubscriptionCRDDomainService``: the first failure, as a severe error."""
    if not desired:
        return
    _api, plan = _plan(data, target.plan_id)
    message: str | None = None
    if security_type(plan) != "API_KEY":
        message = f"apiKeys is only allowed for API_KEY plans (plan: {target.plan_id})"
    else:
        seen: set[str] = set()
        for want in desired:
            if not want.key.strip():
                message = "apiKeys entries must have a non-empty key"
            elif not 32 <= len(want.key) <= 256:
                message = f"key length must be between 32 and 256 characters, got {len(want.key)}"
            elif want.key in seen:
                message = f"duplicate key [{want.key}] in apiKeys"
            if message:
                break
            seen.add(want.key)
    if message:
        raise _unable([message])


# -- create and update --------------------------------------------------------------------------------
def _accept(
    call: Call,
    data: EnvironmentData,
    record: SubscriptionRecord,
    plan: dict[str, Any],
    ending_at: int | None,
    key: str | None,
    now: int,
) -> None:
    """``AcceptSubscriptionDomainService.accept``: the accepted copy gets its key (API_KEY plans) before it
    is written, so a key that cannot be made leaves the subscription PENDING."""
    if record.status not in ("PENDING", "ACCEPTED"):
        raise unmapped_500()  # IllegalStateException("Cannot accept subscription")
    pending = record.status == "PENDING"
    if security_type(plan) == "API_KEY":  # the key expires with the accepted subscription
        _generate_key(call, data, replace(record, ending_at=ending_at) if pending else record, key, now)
    if pending:
        record.status, record.starting_at, record.ending_at = "ACCEPTED", now, ending_at
        record.processed_by, record.processed_at, record.reason = call.user.id, now, ACCEPT_REASON
        record.updated_at = now


def _apply_update(
    data: EnvironmentData,
    record: SubscriptionRecord,
    plan: dict[str, Any],
    *,
    ending_at: int | None,
    metadata: dict[str, Any] | None,
    configuration: Any,
    now: int,
) -> None:
    """``SubscriptionServiceImpl.update(UpdateSubscriptionEntity)``: the status, the configuration and the
    metadata are checked before anything is written; then the active keys of an API_KEY plan expire at
    the new ``endingAt``."""
    if record.status not in ("ACCEPTED", "PENDING", "PAUSED"):
        raise _bad(
            f"Subscription [{record.id}] cannot be updated because of its status.",
            "subscription.notUpdatable",
            {"subscription": record.id},
        )
    _check_configuration(plan, configuration)
    record.metadata = _sanitize_metadata(metadata)
    if configuration is not None:  # setSubscriptionConfig ignores a null configuration
        record.configuration = copy.deepcopy(configuration)
    record.ending_at, record.updated_at = ending_at, now
    if security_type(plan) == "API_KEY" and ending_at is not None:
        for key in data.kinds.keys_of(record.id):
            if not key.revoked and not key.expired(now):
                key.expire_at, key.updated_at = ending_at, now


def _create(
    call: Call, data: EnvironmentData, target: Target, spec: dict[str, Any], desired: list[Desired], now: int
) -> SubscriptionRecord:
    api, plan = _plan(data, target.plan_id)
    configuration = spec.get("consumerConfiguration")
    _check_configuration(plan, configuration)
    metadata = _sanitize_metadata(spec.get("metadata"))
    security = _check_plan(plan)
    app = _application(data, target.application_id)
    _check_application(data, api, plan, security, app, configuration)
    record = SubscriptionRecord(
        id=target.subscription_id,
        org_id=call.org_id,
        env_id=call.env_id,
        api_id=api.id,
        plan_id=target.plan_id,
        application_id=app.id,
        status="PENDING",
        type="PUSH" if _mode(plan) == "PUSH" else "STANDARD",
        metadata=metadata,
        configuration=copy.deepcopy(configuration),
        client_id=_client_id(app) if security in ("OAUTH2", "JWT") else None,
        subscribed_by=call.user.id,
        created_at=now,
        updated_at=now,
    )
    data.kinds.put_subscription(record)
    ending_at = spec.get("endingAt")
    if ending_at is not None:  # the create entity's startingAt (now) and endingAt go through an update
        record.starting_at = now
        _apply_update(
            data, record, plan, ending_at=ending_at, metadata=metadata, configuration=configuration, now=now
        )
    _accept(call, data, record, plan, ending_at, desired[0].key if desired else None, now)
    _reconcile_keys(call, data, record, desired, now)
    return record


def _update(
    call: Call,
    data: EnvironmentData,
    record: SubscriptionRecord,
    target: Target,
    spec: dict[str, Any],
    desired: list[Desired],
    now: int,
) -> SubscriptionRecord:
    version = call.version
    if version.subscription_update_guards:
        if target.plan_id != record.plan_id:
            raise HttpProblem(
                400, f"Subscription [{record.id}] plan cannot be changed", technical_code="invalid"
            )
        if target.application_id != record.application_id:
            raise HttpProblem(
                400, f"Subscription [{record.id}] application cannot be changed", technical_code="invalid"
            )
    _api, plan = _plan(data, record.plan_id)
    if version.subscription_update_guards and record.status == "CLOSED":
        _restore(call, data, record, plan, spec.get("endingAt"), bool(desired), now)
        return _update(call, data, record, target, spec, desired, now)
    # the update carries the spec's values (the ones the version has), else the stored ones
    fields = version.subscription_fields
    _apply_update(
        data,
        record,
        plan,
        ending_at=spec.get("endingAt"),
        metadata=spec.get("metadata") if "metadata" in fields else record.metadata,
        configuration=spec.get("consumerConfiguration")
        if "consumerConfiguration" in fields
        else record.configuration,
        now=now,
    )
    _reconcile_keys(call, data, record, desired, now)
    return record


def _restore(
    call: Call,
    data: EnvironmentData,
    record: SubscriptionRecord,
    plan: dict[str, Any],
    ending_at: int | None,
    has_keys: bool,
    now: int,
) -> None:
    """``restoreAsAccepted``: ``SubscriptionServiceImpl.restore`` (PENDING, active keys unpaused), then an
    accept without a new key when the spec lists keys, else ``autoAccept`` (a random key on API_KEY plans)."""
    record.status, record.updated_at = "PENDING", now
    for key in data.kinds.keys_of(record.id):
        if not key.revoked and not key.expired(now):
            key.paused = False
    if has_keys:
        record.status, record.starting_at, record.ending_at = "ACCEPTED", now, ending_at
        record.processed_by, record.processed_at, record.reason = call.user.id, now, ACCEPT_REASON
    else:
        _accept(call, data, record, plan, ending_at, None, now)


def _spec(call: Call, body: dict[str, Any]) -> dict[str, Any]:
    """The ``SubscriptionSpec`` the import reads: dates parsed, fields of later versions ignored."""
    fields = call.version.subscription_fields
    spec: dict[str, Any] = {"endingAt": _date(body.get("endingAt"), "endingAt")}
    if "metadata" in fields:
        spec["metadata"] = body.get("metadata")
    if "consumerConfiguration" in fields:
        spec["consumerConfiguration"] = body.get("consumerConfiguration")
    return spec


def _echo(call: Call, body: dict[str, Any]) -> dict[str, Any]:
    """``SubscriptionSpec`` as the generated model holds the request (containers default to empty)."""
    fields = call.version.subscription_fields
    echo = {k: body[k] for k in ("hrid", "applicationHrid", "planHrid") if body.get(k) is not None}
    if "metadata" in fields:
        echo["metadata"] = dict(body.get("metadata") or {})
    if "apiKeys" in fields:
        echo["apiKeys"] = [
            {k: v for k, v in key.items() if k in ("key", "expireAt")} for key in body.get("apiKeys") or []
        ]
        if body.get("consumerConfiguration") is not None:
            echo["consumerConfiguration"] = copy.deepcopy(body["consumerConfiguration"])
    return echo


def put_subscription(call: Call) -> Response:
    _require(call, "CU")
    body = spec_body(call, subscription_spec(call.version))
    spec = _spec(call, body)
    desired = _desired_keys(call, body)
    api_ref = call.request.params["apiHrid"]
    sub_uuid, api_uuid, app_uuid = _flags(call)
    org, env, hrid = call.org_id, call.env_id, str(body["hrid"])
    target = Target(
        subscription_id=hrid if sub_uuid else ids.subscription_id(org, env, api_ref, hrid),
        api_id=api_ref if api_uuid else ids.api_id(org, env, api_ref),
        plan_id=str(body["planHrid"]) if api_uuid else ids.plan_id(org, env, api_ref, str(body["planHrid"])),
        application_id=str(body["applicationHrid"])
        if app_uuid
        else ids.application_id(org, env, str(body["applicationHrid"])),
    )
    data = call.ctx.store.env(org, env)
    _validate_keys(data, target, desired)
    now = call.ctx.store.now_ms()
    try:
        existing = data.kinds.subscriptions.get(target.subscription_id)
        if existing is None:
            record = _create(call, data, target, spec, desired, now)
        else:
            record = _update(call, data, existing, target, spec, desired, now)
    finally:
        call.ctx.store.persist()  # the server writes as it goes: a late failure leaves what was written
    state = _echo(call, body)
    state.update(id=record.id, environmentId=env, organizationId=org, apiHrid=api_ref)
    for key, value in (
        ("startingAt", dates.write(record.starting_at)),
        ("endingAt", dates.write(record.ending_at)),
    ):
        if value is not None:
            state[key] = value
    state["errors"] = {"severe": [], "warning": []}
    return Response.json(200, state)


def _find(call: Call, data: EnvironmentData, uuid_param: str) -> SubscriptionRecord:
    """``subscriptionCrudService.get`` of the id of the path, and the UUID-mode check of the API."""
    hrid = call.request.params["hrid"]
    api_ref = call.request.params["apiHrid"]
    by_uuid = _flags(call)[0]
    subscription_id = hrid if by_uuid else ids.subscription_id(call.org_id, call.env_id, api_ref, hrid)
    record = data.kinds.subscriptions.get(subscription_id)
    if record is None:
        raise _hrid_not_found(hrid)
    checks_api = call.request.flag(uuid_param) if call.version.minor >= 12 else by_uuid
    if checks_api and record.api_id != api_ref:
        raise _hrid_not_found(hrid)
    return record


def get_subscription(call: Call) -> Response:
    _require(call, "R")
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = _find(call, data, "hridContainsUUID")
    if record.starting_at is None:
        raise unmapped_500()  # subscriptionEntity.getStartingAt().toOffsetDateTime(): a PENDING one has none
    state: dict[str, Any] = {
        "id": record.id,
        "environmentId": call.env_id,
        "organizationId": call.org_id,
        "apiHrid": call.request.params["apiHrid"],
        "startingAt": dates.write(record.starting_at),
    }
    if not _flags(call)[0] or call.version.minor < 12:
        state["hrid"] = call.request.params["hrid"]
    app = _application(data, record.application_id)
    if app.hrid is not None:
        state["applicationHrid"] = app.hrid
    _api, plan = _plan(data, record.plan_id)
    if plan.get("hrid") is not None:
        state["planHrid"] = plan["hrid"]
    if record.ending_at is not None:
        state["endingAt"] = dates.write(record.ending_at)
    fields = call.version.subscription_fields
    if "metadata" in fields:
        # 4.11 sets no metadata in the GET: the generated model's empty map is what shows
        state["metadata"] = dict(record.metadata or {}) if "apiKeys" in fields else {}
    if "apiKeys" in fields:
        state["apiKeys"] = []
        if record.configuration is not None:
            state["consumerConfiguration"] = copy.deepcopy(record.configuration)
    return Response.json(200, state)


def delete_subscription(call: Call) -> Response:
    _require(call, "D")
    data = call.ctx.store.env(call.org_id, call.env_id)
    record = _find(call, data, "hridContainsApiUUID")
    if call.version.subscription_delete_closes:
        close(data.kinds, record, call.user.id, call.ctx.store.now_ms())
    else:
        data.kinds.remove_subscription(record.id)  # subscriptionCrudService.delete: the record only
    call.ctx.store.persist()
    return Response.empty(204)


# -- mAPI v2 ----------------------------------------------------------------------------------------
def subscription_view(record: SubscriptionRecord) -> dict[str, Any]:
    """mAPI v2 ``Subscription`` (``SubscriptionMapper.map(SubscriptionEntity)``)."""
    view: dict[str, Any] = {
        "id": record.id,
        "api": {"id": record.api_id},
        "plan": {"id": record.plan_id},
        "application": {"id": record.application_id},
        "status": record.status,
        "consumerStatus": "STARTED",
        "subscribedBy": {"id": record.subscribed_by},
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
        "origin": record.origin,
    }
    for key, value in (
        ("publisherMessage", record.reason),
        ("metadata", record.metadata),
        ("consumerConfiguration", record.configuration),
    ):
        if value is not None:
            view[key] = copy.deepcopy(value)
    if record.processed_by is not None:
        view["processedBy"] = {"id": record.processed_by}
    for key, ms in (
        ("processedAt", record.processed_at),
        ("startingAt", record.starting_at),
        ("endingAt", record.ending_at),
        ("closedAt", record.closed_at),
    ):
        if ms is not None:
            view[key] = iso(ms)
    return view


def api_key_view(key: ApiKeyRecord, now: int) -> dict[str, Any]:
    """mAPI v2 ``ApiKey``."""
    view: dict[str, Any] = {
        "id": key.id,
        "key": key.key,
        "application": {"id": key.application_id},
        "subscriptions": [{"id": s} for s in key.subscriptions],
        "revoked": key.revoked,
        "paused": key.paused,
        "expired": key.expired(now),
        "createdAt": iso(key.created_at),
        "updatedAt": iso(key.updated_at),
    }
    if key.expire_at is not None:
        view["expireAt"] = iso(key.expire_at)
    if key.revoked_at is not None:
        view["revokedAt"] = iso(key.revoked_at)
    return view


def _require_v2(call: Call) -> tuple[EnvironmentData, str]:
    api_id = call.request.params["apiId"]
    data = call.ctx.store.env(call.org_id, call.env_id)
    api = data.apis.get(api_id)
    call.require_member(roles.API, api.members if api else None, "SUBSCRIPTION", "R")
    return data, api_id


def _not_found(subscription_id: str) -> HttpProblem:
    return HttpProblem(
        404,
        f"Subscription [{subscription_id}] cannot be found.",
        technical_code="subscription.notFound",
        parameters={"subscription": subscription_id},
    )


def list_subscriptions(call: Call) -> Response:
    """``ApiSubscriptionsResource.getApiSubscriptions``: ``created_at desc`` (``JdbcSubscriptionRepository``)."""
    data, api_id = _require_v2(call)
    page = _int_arg(call, "page", 1)
    per_page = _int_arg(call, "perPage", 10)
    statuses = set(call.request.args("statuses")) or {"ACCEPTED"}
    apps = set(call.request.args("applicationIds"))
    plans = set(call.request.args("planIds"))
    found = [
        s
        for s in data.kinds.subscriptions_of_api(api_id)
        if s.status in statuses
        and (not apps or s.application_id in apps)
        and (not plans or s.plan_id in plans)
    ]
    api_key = call.request.arg("apiKey")
    if api_key:
        found = [s for s in found if any(k.key == api_key for k in data.kinds.keys_of(s.id))]
    found.sort(key=lambda s: (s.created_at, s.id), reverse=True)
    chunk = found if api_key else found[(page - 1) * per_page : page * per_page]
    return _respond_page(call, [subscription_view(s) for s in chunk], len(found), page, per_page)


def _subscription_of_api(call: Call) -> tuple[EnvironmentData, SubscriptionRecord]:
    data, api_id = _require_v2(call)
    subscription_id = call.request.params["subscriptionId"]
    record = data.kinds.subscriptions.get(subscription_id)
    if record is None or record.api_id != api_id:
        raise _not_found(subscription_id)
    return data, record


def get_subscription_v2(call: Call) -> Response:
    _data, record = _subscription_of_api(call)
    return Response.json(200, subscription_view(record))


def list_api_keys(call: Call) -> Response:
    """``getApiSubscriptionApiKeys``: every key of the subscription, revoked ones included."""
    data, record = _subscription_of_api(call)
    page = _int_arg(call, "page", 1)
    per_page = _int_arg(call, "perPage", 10)
    now = call.ctx.store.now_ms()
    keys = [api_key_view(k, now) for k in data.kinds.keys_of(record.id)]
    return _respond_page(call, keys[(page - 1) * per_page : page * per_page], len(keys), page, per_page)


def _available(version: ApimVersion) -> bool:
    return version.has_subscriptions


ROUTES = [
    Route("PUT", PREFIX + "/apis/{apiHrid}/subscriptions", put_subscription, AUTOMATION, _available),
    Route("GET", PREFIX + "/apis/{apiHrid}/subscriptions/{hrid}", get_subscription, AUTOMATION, _available),
    Route(
        "DELETE", PREFIX + "/apis/{apiHrid}/subscriptions/{hrid}", delete_subscription, AUTOMATION, _available
    ),
    *(
        Route("GET", prefix + path, handler, MAPI_V2)
        for prefix in (V2_PREFIX, PREFIX_WITHOUT_ORG)
        for path, handler in (
            ("/apis/{apiId}/subscriptions", list_subscriptions),
            ("/apis/{apiId}/subscriptions/{subscriptionId}", get_subscription_v2),
            ("/apis/{apiId}/subscriptions/{subscriptionId}/api-keys", list_api_keys),
        )
    ),
]
