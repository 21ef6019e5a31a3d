"""What happens to subscriptions and their API keys when something else changes: a subscription is
closed, an API is deleted, an API's import drops a plan, an application is archived. Used by the endpoint
modules of those objects (:mod:`.automation`, :mod:`.mapi_v1`, :mod:`.subscriptions`); no HTTP here.

From the server: ``CloseSubscriptionDomainService.closeSubscription`` (ACCEPTED or PAUSED -> CLOSED and the
API keys revoked; PENDING -> REJECTED with "Subscription has been closed."; CLOSED and REJECTED unchanged),
``ImportApiCRDUseCase.deletePlans`` (the active subscriptions of a plan the spec no longer has are closed,
then the plan deleted), v4 ``ApiServiceImpl.delete`` (plans closed, then **every** subscription of the
API deleted with its keys), ``ApplicationServiceImpl.archive`` (every subscription's keys deleted, then the
subscription closed) and v4 ``PlanServiceImpl.delete`` (a subscription of any status counts).
"""

from __future__ import annotations

from .records import ACTIVE_STATUSES, KindRecords, SubscriptionRecord
from .store import EnvironmentData

CLOSED_REASON = "Subscription has been closed."


def revoke_keys(kinds: KindRecords, subscription_id: str, now: int) -> None:
    """``RevokeApiKeyDomainService.revokeAllSubscriptionsApiKeys``: keys that can be revoked are."""
    for key in kinds.keys_of(subscription_id):
        if key.can_be_revoked(now):
            key.revoked, key.revoked_at, key.updated_at = True, now, now


def close(kinds: KindRecords, record: SubscriptionRecord, user_id: str, now: int) -> None:
    """``CloseSubscriptionDomainService.closeSubscription`` (keys are not shared: not modelled)."""
    if record.status in ("ACCEPTED", "PAUSED"):
        record.status, record.closed_at, record.updated_at = "CLOSED", now, now
        revoke_keys(kinds, record.id, now)
    elif record.status == "PENDING":
        record.status, record.reason = "REJECTED", CLOSED_REASON
        record.processed_by, record.processed_at = user_id, now
        record.closed_at = record.updated_at = now


def close_plans_subscriptions(data: EnvironmentData, plan_ids: set[str], user_id: str, now: int) -> None:
    """``deletePlans``: the active subscriptions of each removed plan are closed."""
    if not plan_ids:
        return
    for record in list(data.kinds.subscriptions.values()):
        if record.plan_id in plan_ids and record.status in ACTIVE_STATUSES:
            close(data.kinds, record, user_id, now)


def delete_api_subscriptions(data: EnvironmentData, api_id: str) -> None:
    """``ApiServiceImpl.delete``: ``subscriptionService.delete`` of every subscription, keys first."""
    kinds = data.kinds
    for record in kinds.subscriptions_of_api(api_id):
        for key in kinds.keys_of(record.id):
            kinds.remove_key(key.id)
        kinds.remove_subscription(record.id)


def archive_application_subscriptions(
    data: EnvironmentData, application_id: str, user_id: str, now: int
) -> None:
    """``ApplicationServiceImpl.archive``: each subscription's keys deleted, then the subscription closed."""
    kinds = data.kinds
    for record in [s for s in kinds.subscriptions.values() if s.application_id == application_id]:
        for key in kinds.keys_of(record.id):
            kinds.remove_key(key.id)
        close(kinds, record, user_id, now)


def count_plan_subscriptions(data: EnvironmentData, plan_id: str) -> int:
    """``subscriptionService.findByPlan(plan).size()``: every status counts."""
    return sum(1 for s in data.kinds.subscriptions.values() if s.plan_id == plan_id)
