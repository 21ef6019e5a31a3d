"""The daemon's HTTP endpoints: ``/healthz``, ``/readyz``, ``/metrics``, ``/status``, ``POST /trigger``.

Everything but ``/trigger`` is read-only and unauthenticated, as probes and scrapers expect: bind
``--listen`` to an address only the platform reaches. Every body served passes through the
process's secret redactor (in `http`), a second line of defence behind documents built without
secret values.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import structlog

from reconciler.daemon.http import Handler, Request, Response
from reconciler.daemon.metrics import Metrics
from reconciler.daemon.status import StatusBoard
from reconciler.daemon.webhook import TokenBucket, WebhookSecretError, authenticated, read_webhook_secret

_log = structlog.get_logger(__name__)

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_PATHS = {
    "/healthz": ("GET", "HEAD"),
    "/readyz": ("GET", "HEAD"),
    "/metrics": ("GET",),
    "/status": ("GET",),
    "/trigger": ("POST",),
}


def _json(status: int, data: object, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response.json(status, data, headers=headers)


def make_handler(
    *,
    status: StatusBoard,
    metrics: Metrics,
    trigger: Callable[[str], None],
    webhook_secret_file: Path | None,
    bucket: TokenBucket,
) -> Handler:
    """The request handler of the daemon's server."""

    async def handle(request: Request) -> Response:
        methods = _PATHS.get(request.path)
        if methods is None:
            return Response.text(404, "not found\n")
        if request.method not in methods:
            return Response.text(405, "method not allowed\n", headers=(("Allow", ", ".join(methods)),))
        if request.path == "/healthz":
            return Response.text(200, "ok\n")
        if request.path == "/readyz":
            readiness = status.readiness()
            return _json(
                200 if readiness.ready else 503, {"ready": readiness.ready, "reason": readiness.reason}
            )
        if request.path == "/metrics":
            return Response.text(200, metrics.render(), content_type=METRICS_CONTENT_TYPE)
        if request.path == "/status":
            return _json(200, status.to_json())
        response = _trigger(request)
        metrics.count_webhook(response.status)
        return response

    def _trigger(request: Request) -> Response:
        if webhook_secret_file is None:
            return _json(404, {"error": "the webhook is disabled: start with --webhook-secret-file"})
        if not bucket.take():
            _log.warning("daemon.webhook_rate_limited", peer=request.peer)
            return _json(429, {"error": "too many requests"}, headers=(("Retry-After", "1"),))
        try:
            secret = read_webhook_secret(webhook_secret_file)
        except WebhookSecretError as error:
            _log.error("daemon.webhook_secret_unreadable", error=str(error))
            return _json(503, {"error": "the webhook secret cannot be read"})
        if not authenticated(request.headers, request.body, secret):
            _log.warning("daemon.webhook_refused", peer=request.peer, reason="bad or missing signature")
            return _json(401, {"error": "bad or missing signature"})
        event = request.headers.get("x-github-event") or request.headers.get("x-gitlab-event")
        _log.info("daemon.webhook_accepted", peer=request.peer, hook_event=event)
        trigger("webhook")
        return _json(202, {"accepted": True})

    return handle
