"""Notifications over real HTTP to a receiver on 127.0.0.1: payload shapes, the HMAC signature,
commit statuses, retries, rate limit, repeats, a full queue, and no secret in any body."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.kinds import RemoteKind
from reconciler.manifests.model import ManifestSet, ResourceId
from reconciler.notify import (
    Event,
    Notifier,
    NotifyConfig,
    NotifyConfigError,
    build_targets,
    events_of_result,
)
from reconciler.notify.sender import SIGNATURE_HEADER
from reconciler.plan.model import Action, ActionKind, Plan
from reconciler.secrets import default_redactor
from reconciler.sync.result import SyncResult
from reconciler.sync.settings import SyncMode
from tests.daemon.support import wait_for
from tests.notify.receiver import Receiver, receiving

pytestmark = pytest.mark.timeout(60)

KEY = "notify-hmac-key-0123456789"
TOKEN = "ghp-canary-token-do-not-print"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
CONTEXT = ResourceId("ManagementContext", "default", "apim")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text + "\n")
    return path


def every_target(receiver: Receiver, tmp_path: Path, **overrides: object) -> NotifyConfig:
    settings: dict[str, object] = {
        "webhooks": (f"{receiver.url}/hook",),
        "webhook_secret_file": write(tmp_path, "key", KEY),
        "slack_webhook_file": write(tmp_path, "slack", f"{receiver.url}/services/T0/B0/slack-url-secret"),
        "teams_webhook_file": write(
            tmp_path, "teams", f"{receiver.url}/workflows/teams?sig=teams-url-secret"
        ),
        "commit_status": "github",
        "commit_status_api": receiver.url,
        "commit_status_repo": "platform/apis",
        "commit_status_token_file": write(tmp_path, "token", TOKEN),
        "commit_status_target_url": "https://reconciler.example/status",
    }
    settings.update(overrides)
    return NotifyConfig(**settings)  # type: ignore[arg-type]


def api(name: str, kind: ActionKind, **kw: object) -> Action:
    return Action(kind, CONTEXT, ResourceId("ApiV4Definition", "default", name), name, RemoteKind.API, **kw)  # type: ignore[arg-type]


def result(*actions: Action, commit: str = COMMIT) -> SyncResult:
    return SyncResult(commit, SyncMode.APPLY, ManifestSet((), (), 0), plan=Plan(tuple(actions)))


def test_every_target_gets_its_shape_and_the_webhook_is_signed(tmp_path: Path) -> None:
    with receiving() as receiver:
        notifier = Notifier(build_targets(every_target(receiver, tmp_path)))
        drifted = api("alpha", ActionKind.DRIFTED, body={"x": 1})
        blocked = api("beta", ActionKind.BLOCKED, refused=ActionKind.DELETE, reason="not deleted: too many")
        events = events_of_result(result(drifted, blocked), "https://git.example/apis.git")
        assert [e.kind for e in events] == ["sync_failed", "drift_detected", "prune_blocked"]
        notifier.notify(events)
        wait_for(lambda: len(receiver.requests) == 3 * 3 + 1, "every delivery")
        notifier.close()

    hooks = receiver.at("/hook")
    assert [h.json["event"] for h in hooks] == ["sync_failed", "drift_detected", "prune_blocked"]
    for hook in hooks:
        expected = "sha256=" + hmac.new(KEY.encode(), hook.body, hashlib.sha256).hexdigest()
        assert hook.headers[SIGNATURE_HEADER.lower()] == expected
        assert hook.headers["x-reconciler-event"] == hook.json["event"]
        assert hook.headers["x-reconciler-delivery"] == hook.json["delivery"]
        assert hook.json["commit"] == COMMIT and hook.json["version"] == 1
    assert hooks[1].json["resources"] == ["ApiV4Definition default/alpha"]
    assert hooks[1].json["message"] == "1 resource(s) changed in APIM behind git's back (reverted)"
    assert hooks[2].json["message"].startswith("1 deletion(s) refused by the prune guards: not deleted")

    slack = receiver.at("/services/T0/B0/slack-url-secret")
    assert [s.json["text"].split(":")[0] for s in slack] == [
        "Sync of 0123456789ab failed", "Drift detected at 0123456789ab", "Prune blocked at 0123456789ab",
    ]  # fmt: skip
    assert slack[0].json["blocks"][0]["type"] == "section" and slack[0].json["blocks"][1]["type"] == "context"

    (teams, *_) = receiver.at("/workflows/teams?sig=teams-url-secret")
    card = teams.json["attachments"][0]
    assert (
        teams.json["type"] == "message" and card["contentType"] == "application/vnd.microsoft.card.adaptive"
    )
    assert card["content"]["type"] == "AdaptiveCard" and card["content"]["body"][0]["color"] == "Attention"

    (status,) = receiver.at(f"/repos/platform/apis/statuses/{COMMIT}")  # outcomes only
    assert status.headers["authorization"] == f"Bearer {TOKEN}"
    assert status.headers["accept"] == "application/vnd.github+json"
    assert status.json == {
        "state": "failure",
        "description": "Sync of 0123456789ab failed: conflicts or blocked actions: Plan: 0 to create, 1 to update, "
        "0 to delete (1 drifted, 1 blocked)",
        "context": "apim-reconciler",
        "target_url": "https://reconciler.example/status",
    }


def test_gitlab_status_and_no_status_without_a_git_commit(tmp_path: Path) -> None:
    with receiving() as receiver:
        config = every_target(
            receiver, tmp_path, webhooks=(), slack_webhook_file=None, teams_webhook_file=None,
            commit_status="gitlab", commit_status_repo="group/apis",
        )  # fmt: skip
        notifier = Notifier(build_targets(config))
        notifier.notify(
            events_of_result(result(api("a", ActionKind.UNCHANGED), commit="folder:abc"), "./manifests")
        )
        notifier.notify(
            events_of_result(result(api("a", ActionKind.UNCHANGED)), "https://git.example/apis.git")
        )
        wait_for(lambda: receiver.requests, "the status")
        notifier.close()
    (status,) = receiver.requests
    assert status.path == f"/projects/group%2Fapis/statuses/{COMMIT}"
    assert status.headers["private-token"] == TOKEN
    assert status.json["state"] == "success" and status.json["name"] == "apim-reconciler"


def test_retries_then_gives_up_on_a_refusal_and_repeats_are_sent_once(tmp_path: Path) -> None:
    with receiving() as receiver:
        config = every_target(
            receiver, tmp_path, slack_webhook_file=None, teams_webhook_file=None, commit_status=None
        )
        notifier = Notifier(build_targets(config), sleep=lambda seconds: None)
        # retried: delivered at the third attempt; then a success refused (400): not retried
        receiver.statuses = [503, 500, 200, 400]
        failed = events_of_result(result(api("a", ActionKind.CONFLICT)), "src")
        succeeded = events_of_result(result(api("b", ActionKind.UNCHANGED)), "src")
        notifier.notify(failed)
        notifier.notify(failed)  # the daemon retrying the same commit: said once
        notifier.notify(succeeded)  # refused by the receiver
        notifier.notify(failed)  # the receiver's last word is still that failure: not news
        notifier.notify(succeeded)
        notifier.notify(failed)  # after a delivered success, the failure is news again
        notifier.close()
    events = [r.json["event"] for r in receiver.requests]
    assert events == ["sync_failed"] * 3 + ["sync_succeeded"] * 2 + ["sync_failed"]
    assert notifier.counts == {"sent": 3, "failed": 1, "dropped": 0, "suppressed": 2}


def test_rate_limit_and_a_full_queue_drop_without_blocking(tmp_path: Path) -> None:
    with receiving() as receiver:
        config = every_target(
            receiver, tmp_path, slack_webhook_file=None, teams_webhook_file=None, commit_status=None
        )
        limited = Notifier(build_targets(config), rate_per_minute=1)
        events = [
            Event("drift_detected", f"drift {i}", "m", COMMIT, "src", datetime.now(UTC)) for i in range(3)
        ]
        limited.notify(events)
        limited.close()
        assert len(receiver.requests) == 1 and limited.counts["dropped"] == 2

        receiver.release.clear()  # the receiver hangs: notify still returns at once
        stuck = Notifier(build_targets(config), queue_size=1)
        stuck.notify(events)
        stuck.notify(events)
        assert stuck.counts["dropped"] >= 4  # one in flight, one queued, the rest dropped
        receiver.release.set()
        stuck.close()


def test_no_secret_in_any_body(tmp_path: Path) -> None:
    canary = "canary-Zq8-secret-value"
    default_redactor().add(canary)
    with receiving() as receiver:
        notifier = Notifier(build_targets(every_target(receiver, tmp_path)))
        event = Event(
            "sync_failed",
            "Sync failed",
            f"APIM said: token {canary} refused",
            COMMIT,
            "src",
            datetime.now(UTC),
        )
        notifier.notify([event])
        wait_for(lambda: len(receiver.requests) == 4, "every target")
        notifier.close()
    for request in receiver.requests:
        text = request.body.decode()
        assert canary not in text and "(sensitive)" in text
        for secret in (TOKEN, KEY, "slack-url-secret", "teams-url-secret"):
            assert secret not in text


def test_configuration_errors_name_the_problem_not_the_secret(tmp_path: Path) -> None:
    key = write(tmp_path, "key", KEY)
    with pytest.raises(NotifyConfigError, match="needs --notify-webhook-secret-file"):
        build_targets(NotifyConfig(webhooks=("https://hooks.example/x",)))
    with pytest.raises(NotifyConfigError, match="plain http is accepted only on loopback"):
        build_targets(NotifyConfig(webhooks=("http://hooks.example/x",), webhook_secret_file=key))
    slack = write(tmp_path, "slack", "http://hooks.slack.example/services/secret-part")
    with pytest.raises(NotifyConfigError) as refused:
        build_targets(NotifyConfig(slack_webhook_file=slack))
    assert "secret-part" not in str(refused.value)
    with pytest.raises(NotifyConfigError, match="OWNER/REPO"):
        build_targets(
            NotifyConfig(commit_status="github", commit_status_repo="apis", commit_status_token_file=key)
        )
    with pytest.raises(NotifyConfigError, match="unknown event"):
        build_targets(NotifyConfig(events=frozenset({"sync_exploded"})))
