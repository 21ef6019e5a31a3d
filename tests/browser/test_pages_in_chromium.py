"""The daemon's page and the HTML report, as headless Chromium shows them.

A real daemon syncs a folder into the emulator: one API drifted in the console, one API whose HRID
the console already holds (a conflict), one removal past the prune threshold (blocked). Chromium
then loads ``/`` with JavaScript on and off, and a report written by ``diff --html-report`` from a
``file://`` URL; the tests read what the browser shows (the DOM's text, computed colours, what the
script did) and that markup from git never runs, with or without the page's policy.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import BASEURL_ENV, Repo, api_yaml, put_unowned_api, token_env
from tests.browser.chromium import Chromium, dump_dom, require_chromium
from tests.daemon.support import MAPI, DaemonProcess, clean_env, run_cli, wait_for

pytestmark = pytest.mark.timeout(180)

GREEN, RED, PURPLE, AMBER = "rgb(26, 127, 55)", "rgb(207, 34, 46)", "rgb(130, 80, 223)", "rgb(154, 103, 0)"
XSS_NAME = "<script>document.title='pwned'</script>"
XSS_DESCRIPTION = '"><img src=x onerror="document.title=\'pwned\'">'


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


@pytest.fixture
def browser() -> Iterator[Chromium]:
    with Chromium() as chromium:
        yield chromium


def _console_edit(emulator: RunningEmulator, name: str, description: str) -> None:
    with httpx.Client(base_url=emulator.base_url, headers={"Authorization": "Bearer emulator-token"}) as http:
        (found,) = [a for a in http.get(f"{MAPI}/apis").json()["data"] if a["name"] == name]
        current = http.get(f"{MAPI}/apis/{found['id']}")
        body = current.json()
        keep = ("name", "apiVersion", "definitionVersion", "type", "visibility", "lifecycleState", "tags")
        update = {k: body[k] for k in (*keep, "listeners", "endpointGroups") if k in body}
        update["description"] = description
        response = http.put(
            f"{MAPI}/apis/{found['id']}", json=update, headers={"If-Match": current.headers["ETag"]}
        )
        assert response.status_code == 200, response.text


@pytest.fixture
def daemon(tmp_path: Path, emulator: RunningEmulator) -> Iterator[DaemonProcess]:
    """A daemon whose second sync has a drift, a conflict and a blocked deletion."""
    repo = Repo(tmp_path / "manifests", emulator.base_url)
    for name in ("alpha", "beta", "delta", "gamma"):
        repo.write(f"{name}.yaml", api_yaml(name))
    put_unowned_api(emulator.base_url, "default-gamma", "/gamma-console")
    env = clean_env(**{BASEURL_ENV: emulator.base_url})
    process = DaemonProcess(
        [str(repo.root), "--interval", "300", "--cache-dir", str(tmp_path / "cache")], tmp_path / "d", env=env
    )
    try:
        process.wait_serving()
        wait_for(lambda: process.status()["syncs"] == 1, "the first sync", timeout=60)
        _console_edit(emulator, "alpha", "Edited by hand in the console")
        repo.remove("delta.yaml")  # one of three owned APIs: past the 25 % prune threshold
        process.signal(signal.SIGHUP)
        wait_for(lambda: process.status()["syncs"] == 2, "the second sync", timeout=60)
        yield process
    finally:
        process.stop()


def test_the_daemon_page_shows_each_context_its_syncs_and_what_needs_attention(
    daemon: DaemonProcess, browser: Chromium
) -> None:
    status = daemon.status()
    actions = {r["name"]: r for r in status["resources"]}
    assert {n: r["action"] for n, r in actions.items()} == {
        "alpha": "drifted",
        "beta": "unchanged",
        "gamma": "conflict",
        "delta": "blocked",
    }
    page = browser.open(f"http://127.0.0.1:{daemon.port}/")
    text = page.text()
    assert "context default/apim" in text
    assert status["lastAttemptedRevision"][:19] in page.text(".context")  # the commit, per context
    assert "not ready: ReconciliationFailed" in page.text("#ready")
    # the last syncs of the context: outcome, counts, duration
    rows = page.texts(".context table:not(.attention table) tbody tr")
    assert any(
        "failed" in row and "1 drifted" in row and "1 conflict" in row and "1 blocked" in row for row in rows
    )
    assert any("3 create" in row and "1 conflict" in row for row in rows)
    # what needs attention, and why, with its place in the repository
    attention = page.text(".attention")
    for name in ("alpha", "gamma", "delta"):
        assert f"ApiV4Definition/default/{name}" in attention
        assert (actions[name]["reason"] or actions[name]["error"]) in attention
    assert "beta" not in attention
    assert "modified in APIM at" in attention and "exists in APIM without an ownership record" in attention
    assert "token of admin" in page.text(".identity") and "no expiry known" in page.text(".identity")
    # the colours people read: drift purple, conflict and blocked red, a created API green
    assert page.colour(".attention .badge.drifted") == PURPLE
    assert page.colour(".attention .badge.conflict") == RED
    assert page.colour(".attention .badge.blocked") == RED
    assert page.colour("#ready .badge") == RED
    assert page.colour(".context span.create") == GREEN
    # the one script ran (its hash is in the policy): a countdown and a pause button
    assert page.text("#refresh").startswith("next refresh in ")
    page.evaluate("document.getElementById('pause').click()")
    assert page.text("#refresh").startswith("auto-refresh paused")
    assert page.evaluate("document.querySelectorAll('script').length") == 1
    dom = dump_dom(f"http://127.0.0.1:{daemon.port}/")  # the same from the command line
    assert 'id="pause"' in dom and "context default/apim" in dom
    shot = daemon.log_path.parent / "page.png"
    page.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_without_javascript_the_page_is_plain_links_and_refreshes_itself(
    daemon: DaemonProcess, browser: Chromium
) -> None:
    page = browser.open(f"http://127.0.0.1:{daemon.port}/", javascript=False)
    assert page.evaluate("document.getElementById('pause')") is None  # the script did not run
    assert page.text("#refresh") == "refreshes every 10 s"
    links = page.evaluate("Array.from(document.querySelectorAll('nav a'), a => [a.textContent, a.href])")
    base = f"http://127.0.0.1:{daemon.port}"
    assert links == [
        ["status (JSON)", f"{base}/status"],
        ["metrics (Prometheus)", f"{base}/metrics"],
        ["readiness", f"{base}/readyz"],
        ["liveness", f"{base}/healthz"],
    ]
    refresh = page.evaluate("document.querySelector('noscript meta[http-equiv=refresh]')?.content ?? null")
    assert refresh == "10"  # parsed as an element only when scripts are off
    assert "ApiV4Definition/default/gamma" in page.text(".attention")  # the content does not need the script
    assert page.colour(".attention .badge.conflict") == RED


def _xss_repo(tmp_path: Path, emulator: RunningEmulator) -> Repo:
    """One API whose display name and description are markup (metadata.name must be an HRID)."""
    repo = Repo(tmp_path / "xss-repo", emulator.base_url)

    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    text = api_yaml("xss").replace(
        "    name: apim\n  name: xss\n  description: An API\n",
        f"    name: apim\n  name: {quoted(XSS_NAME)}\n  description: {quoted(XSS_DESCRIPTION)}\n",
    )
    assert XSS_NAME.replace("'", "''") in text
    repo.write("xss.yaml", text)
    return repo


def test_the_written_report_in_the_browser(
    tmp_path: Path, emulator: RunningEmulator, browser: Chromium
) -> None:
    repo = _xss_repo(tmp_path, emulator)
    report = tmp_path / "plan.html"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "APIM_"))}
    result = run_cli(
        "diff", repo.root, "--verbose", "--html-report", report, env=env | token_env(emulator.base_url)
    )
    assert result.returncode == 0, result.stderr
    page = browser.open(report.as_uri())
    assert page.evaluate("document.title") == "apim-reconciler diff " + page.text("#commit")
    assert page.text("#summary") == "Plan: 1 to create, 0 to update, 0 to delete"
    assert page.text("#count-create").split() == ["1", "create"]
    assert page.colour("#count-create") == GREEN
    assert page.colour("table .badge.create") == GREEN
    assert page.text("#outcome") == "ok" and page.colour("#outcome .badge") == GREEN
    assert "ApiV4Definition/default/xss" in page.text("table")
    page.evaluate("document.querySelector('details.changes').open = true")
    changes = page.text("details.changes pre")
    assert f'+ name: "{XSS_NAME}"' in changes  # git's markup, shown as text
    assert "onerror" in changes and page.colour("pre .add") == GREEN
    assert page.evaluate("document.querySelectorAll('img, script').length") == 0
    assert "pwned" not in page.evaluate("document.title")

    # the escaping holds on its own: the same page without its policy runs nothing either
    bare = tmp_path / "bare.html"
    text = report.read_text()
    start = text.index('<meta http-equiv="Content-Security-Policy"')
    bare.write_text(text[:start] + text[text.index(">", start) + 1 :])
    page = browser.open(bare.as_uri())
    assert "pwned" not in page.evaluate("document.title")
    assert page.evaluate("document.querySelectorAll('img, script').length") == 0
