"""The status page at ``/``: served by a real daemon with its headers, built from ``/status`` only,
and every value in it text, whatever git or APIM put there."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.daemon.page import HEADERS, LINKS, SCRIPT, render_page
from reconciler.emulator import RunningEmulator
from tests.apply.helpers import Repo, api_yaml, put_unowned_api
from tests.daemon.conftest import StartDaemon
from tests.daemon.support import wait_for
from tests.report.htmlcheck import assert_only_our_markup, csp_hash, parse

pytestmark = pytest.mark.timeout(90)

HOSTILE = '<script>alert(1)</script>"><img src=x onerror="document.title=1">'


def test_the_page_is_served_at_the_root_with_a_policy_that_runs_only_its_script(
    start_daemon: StartDaemon, emulator: RunningEmulator, tmp_path: Path, cache_dir: Path
) -> None:
    repo = Repo(tmp_path / "manifests", emulator.base_url)
    repo.write("alpha.yaml", api_yaml("alpha"))
    repo.write("gamma.yaml", api_yaml("gamma"))
    put_unowned_api(emulator.base_url, "default-gamma", "/gamma-console")  # made in the console
    daemon = start_daemon(repo.root, "--interval", "300", "--cache-dir", cache_dir)
    wait_for(lambda: daemon.status()["syncs"] >= 1, "the first sync")

    response = daemon.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    policy = dict(d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == csp_hash(SCRIPT)
    page = parse(response.text)
    assert page.scripts == [SCRIPT]
    assert policy["style-src"] == csp_hash(page.styles[0]) and len(page.styles) == 1
    assert_only_our_markup(page, scripts=1)

    status = daemon.status()
    text = page.all_text
    assert "context default/apim" in text
    assert status["lastAttemptedRevision"][:19] in text
    assert "1 create" in text and "1 conflict" in text  # the counts of the sync, per context
    assert "exists in APIM without an ownership record" in text  # the conflict, and why
    assert "ApiV4Definition/default/gamma" in text
    hrefs = [a.get("href") for tag, a in page.tags if tag == "a"]
    assert hrefs == [path for path, _ in LINKS] == ["/status", "/metrics", "/readyz", "/healthz"]
    refresh = [a for tag, a in page.tags if tag == "meta" and a.get("http-equiv") == "refresh"]
    assert refresh == [{"http-equiv": "refresh", "content": "10"}]  # inside <noscript>: without JavaScript

    head = daemon.client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert daemon.client.post("/").status_code == 405


def _hostile_status() -> dict[str, Any]:
    """A /status document with markup in every string that git, APIM or a client could set."""
    return {
        "source": HOSTILE,
        "ref": HOSTILE,
        "lastAttemptedRevision": HOSTILE,
        "lastAppliedRevision": HOSTILE,
        "syncs": 1,
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": HOSTILE,
                "message": HOSTILE,
                "lastTransitionTime": HOSTILE,
            }
        ],
        "sourceError": {"type": HOSTILE, "message": HOSTILE, "retryable": True, "time": HOSTILE},
        "history": [
            {
                "revision": HOSTILE,
                "reason": HOSTILE,
                "startedAt": HOSTILE,
                "durationSeconds": 1.0,
                "outcome": HOSTILE,
                "ok": False,
                "counts": {"create": 1, "failed": 0},
                "contexts": {HOSTILE: {"ok": False, "counts": None, "error": HOSTILE}},
                "failedContexts": 1,
                "manifestErrors": 0,
            }
        ],
        "resources": [
            {
                "kind": HOSTILE,
                "namespace": HOSTILE,
                "name": HOSTILE,
                "context": HOSTILE,
                "hrid": HOSTILE,
                "action": HOSTILE,
                "reason": HOSTILE,
                "applied": True,
                "ok": False,
                "error": HOSTILE,
                "position": HOSTILE,
            }
        ],
        "failures": [{"context": HOSTILE, "stage": HOSTILE, "message": HOSTILE}],
        "problems": [{"file": HOSTILE, "line": 1, "column": 2, "severity": "error", "message": HOSTILE}],
        "identities": [
            {
                "context": HOSTILE,
                "ok": False,
                "who": HOSTILE,
                "serviceAccount": False,
                "missingRoles": [HOSTILE],
                "tokenExpiresAt": HOSTILE,
                "tokenExpiresInSeconds": 3600,
                "revoked": True,
                "warnings": [HOSTILE],
                "error": HOSTILE,
            }
        ],
        "suspension": {
            "suspended": True,
            "by": HOSTILE,
            "since": HOSTILE,
            "plan": {
                "revision": HOSTILE,
                "time": HOSTILE,
                "summary": HOSTILE,
                "hasChanges": True,
                "resources": [],
            },
        },
    }


def test_every_value_on_the_page_is_text() -> None:
    rendered = render_page(_hostile_status())
    page = parse(rendered)
    assert_only_our_markup(page, scripts=1)
    assert page.scripts == [SCRIPT]
    assert "<img" not in rendered and "<script>alert" not in rendered
    assert page.all_text.count("<script>alert(1)</script>") >= 20  # shown everywhere, as text
    classes = {c for _, name, value in page.attributes() if name == "class" for c in str(value).split()}
    assert all(re.fullmatch("[a-z-]+", c) for c in classes), classes  # our words only: "unknown" for theirs
    assert "unknown" in classes
    assert dict(HEADERS)["X-Content-Type-Options"] == "nosniff"
