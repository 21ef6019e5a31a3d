"""The daemon's HTTP endpoints: the status page ``/``, ``/healthz``, ``/readyz``, ``/metrics``,
``/status``, ``POST /trigger``, ``POST /suspend`` and ``POST /resume``.

Everything but the POSTs is read-only and unauthenticated, as probes and scrapers expect: bind
``--listen`` to an address only the platform reaches. ``/trigger`` needs the webhook secret;
``/suspend`` and ``/resume`` the control secret (``--control-secret-file``), checked the same way,
and are disabled (404) without it. Every body served passes through the
process's secret redactor (in `http`), a second line of defence behind documents built without
secret values.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import structlog

from reconciler.daemon.http import Handler, Request, Response
from reconciler.daemon.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from reconciler.daemon.metrics import Metrics
from reconciler.daemon.page import HEADERS as PAGE_HEADERS
from reconciler.daemon.page import render_page
from reconciler.daemon.status import StatusBoard
from reconciler.daemon.suspend import SuspendState
from reconciler.daemon.webhook import TokenBucket, WebhookSecretError, authenticated, read_webhook_secret

_log = structlog.get_logger(__name__)

HTML_CONTENT_TYPE = "text/html; charset=utf-8"
_PATHS = {
    "/": ("GET", "HEAD"),
    "/healthz": ("GET", "HEAD"),
    "/readyz": ("GET", "HEAD"),
    "/metrics": ("GET",),
    "/status": ("GET",),
    "/trigger": ("POST",),
    "/suspend": ("POST",),
    "/resume": ("POST",),
}


class Control(Protocol):
    """What ``/suspend`` and ``/resume`` act on (the reconcile loop)."""

    def suspend(self, by: str) -> SuspendState: ...

    def resume(self, by: str) -> SuspendState: ...


def _json(status: int, data: object, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response.json(status, data, headers=headers)


def make_handler(
    *,
    status: StatusBoard,
    metrics: Metrics,
    trigger: Callable[[str], None],
    webhook_secret_file: Path | None,
    bucket: TokenBucket,
    control: Control | None = None,
    control_secret_file: Path | None = None,
) -> Handler:
    """The request handler of the daemon's server."""

    async def handle(request: Request) -> Response:
        methods = _PATHS.get(request.path)
        if methods is None:
            return Response.text(404, "not found\n")
        if request.method not in methods:
            return Response.text(405, "method not allowed\n", headers=(("Allow", ", ".join(methods)),))
        if request.path == "/":
            page = render_page(status.to_json())
            return Response.text(200, page, content_type=HTML_CONTENT_TYPE, headers=PAGE_HEADERS)
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
        if request.path in ("/suspend", "/resume"):
            return _control(request)
        response = _trigger(request)
        metrics.count_webhook(response.status)
        return response

    def _refused(request: Request, secret_file: Path, what: str) -> Response | None:
        """None when the request is within the rate and proves it knows the secret; else the answer."""
        if not bucket.take():
            _log.warning("daemon.webhook_rate_limited", peer=request.peer)
            return _json(429, {"error": "too many requests"}, headers=(("Retry-After", "1"),))
        try:
            secret = read_webhook_secret(secret_file)
        except WebhookSecretError as error:
            _log.error("daemon.webhook_secret_unreadable", error=str(error), endpoint=request.path)
            return _json(503, {"error": f"the {what} secret cannot be read"})
        if not authenticated(request.headers, request.body, secret):
            _log.warning(
                "daemon.webhook_refused",
                peer=request.peer,
                reason="bad or missing signature",
                endpoint=request.path,
            )
            return _json(401, {"error": "bad or missing signature"})
        return None

    def _control(request: Request) -> Response:
        if control is None or control_secret_file is None:
            return _json(404, {"error": "suspend and resume are disabled: start with --control-secret-file"})
        refused = _refused(request, control_secret_file, "control")
        if refused is not None:
            return refused
        by = f"POST {request.path} from {request.peer or 'unknown'}"
        state = control.suspend(by) if request.path == "/suspend" else control.resume(by)
        return _json(200, state.to_json())

    def _trigger(request: Request) -> Response:
        if webhook_secret_file is None:
            return _json(404, {"error": "the webhook is disabled: start with --webhook-secret-file"})
        refused = _refused(request, webhook_secret_file, "webhook")
        if refused is not None:
            return refused
        event = request.headers.get("x-github-event") or request.headers.get("x-gitlab-event")
        _log.info("daemon.webhook_accepted", peer=request.peer, hook_event=event)
        trigger("webhook")
        return _json(202, {"accepted": True})

    return handle
