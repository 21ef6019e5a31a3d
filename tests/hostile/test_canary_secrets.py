"""Canary secrets planted in every source never reach any output of diff or sync, in any format.

Sources: the context's bearer token (mounted file), a Basic password (env), a template secret in
an API spec (mounted file, then rotated so that the plan shows a change to it), and a template
secret inside a longer string. Outputs: stdout and stderr of text, JSON, Markdown and HTML reports
(and the HTML report written with --html-report), with
debug logging, for a create, an update caused by a rotation, and an APIM failure.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
from base64 import b64encode
from pathlib import Path

from reconciler.emulator import Fault, RunningEmulator
from tests.apply.helpers import api_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("text", "json", "markdown", "html")
CANARIES = {
    "header": "canary-hdr-4f1c9e2a77",
    "rotated": "canary-rot-8b3d0c6e11",
    "inline": "canary-inl-2e7a5d9f30",
    "password": "canary-pwd-6c1f8a4b52",
}


def run(repo: Path, secrets: Path, *args: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reconciler",
            *args,
            str(repo),
            "--secrets-dir",
            str(secrets),
            "--log-level",
            "debug",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "APIM_SECRET_DEFAULT_BASIC_PASSWORD": CANARIES["password"]},
    )
    return result.stdout + result.stderr


def test_no_canary_byte_in_any_output(tmp_path: Path, emulator: RunningEmulator) -> None:
    secrets = tmp_path / "secrets"
    (secrets / "apim").mkdir(parents=True)
    (secrets / "apim" / "bearerToken").write_text("emulator-token\n")
    (secrets / "apim" / "baseUrl").write_text(emulator.base_url + "\n")
    (secrets / "basic").mkdir()
    (secrets / "basic" / "username").write_text("admin\n")
    (secrets / "basic" / "baseUrl").write_text(emulator.base_url + "\n")
    (secrets / "backend").mkdir()
    (secrets / "backend" / "header").write_text(CANARIES["header"] + "\n")
    (secrets / "backend" / "inline").write_text(CANARIES["inline"])
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "ctx.yaml").write_text(
        "apiVersion: gravitee.io/v1alpha1\nkind: ManagementContext\nmetadata:\n  name: apim\nspec:\n"
        f"  baseUrl: {emulator.base_url}\n  auth:\n    secretRef:\n      name: apim\n"
    )
    (repo / "basic.yaml").write_text(
        "apiVersion: gravitee.io/v1alpha1\nkind: ManagementContext\nmetadata:\n  name: basic\nspec:\n"
        f"  baseUrl: {emulator.base_url}\n  environmentId: NOPE\n  auth:\n    secretRef:\n      name: basic\n"
    )
    api = api_yaml("secretive").replace(
        "            target: https://secretive.example.com",
        '            target: "https://backend.example.com/?k=[[ secret `backend/inline` ]]"\n'
        '            headers:\n              - name: X-Api-Key\n                value: "[[ secret `backend/header` ]]"',
    )
    (repo / "api.yaml").write_text(api)

    report = tmp_path / "report.html"  # the HTML report, written as CI keeps it
    pages: list[str] = []

    def page() -> str:
        pages.append(report.read_text())
        return pages[-1]

    outputs = [run(repo, secrets, "diff", "--output", fmt) for fmt in FORMATS]
    outputs.append(run(repo, secrets, "sync", "--html-report", str(report)))
    outputs.append(page())
    (secrets / "backend" / "header").write_text(CANARIES["rotated"])  # a rotation: the plan shows a change
    outputs += [run(repo, secrets, "diff", "--output", fmt, "--verbose") for fmt in FORMATS]
    outputs.append(run(repo, secrets, "diff", "--verbose", "--html-report", str(report)))
    outputs.append(page())
    emulator.set_faults([Fault.parse("PUT */apis=500:1")])
    outputs.append(run(repo, secrets, "sync", "--output", "json", "--html-report", str(report)))
    outputs.append(page())
    outputs.append(run(repo, secrets, "check-context"))

    everything = "\n".join(outputs)
    assert "(sensitive) -> (sensitive)" in outputs[6]  # the rotation shows as a change, not a value
    assert "(sensitive) -&gt; (sensitive)" in pages[1]  # and so in the HTML page
    assert "500" in pages[2] and "failed" in pages[2]  # the failed write is in the last page
    assert "secretive" in everything
    assert "500" in everything  # the failure path was exercised
    for name, canary in CANARIES.items():
        for form in (
            canary,
            canary[-12:],
            canary.upper(),
            html.escape(canary),
            b64encode(canary.encode()).decode(),
        ):
            assert form not in everything, f"the {name} canary leaked as {form!r}"
