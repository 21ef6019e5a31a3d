"""Plans people can read: a creation shows what the repository says, long values are never cut in
the middle, and neither lets a secret through. The CLI against the emulator over real HTTP."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from reconciler.cli import main
from reconciler.emulator import RunningEmulator
from tests.apply.helpers import Repo, api_yaml, run_json, set_token_env

MAPI = "/management/v2/organizations/DEFAULT/environments/DEFAULT"
CANARY = "canary-wrapped-secret-5c2f9e1a"


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator) -> None:
    set_token_env(monkeypatch, emulator.base_url)


@pytest.fixture
def repo(tmp_path: Path, emulator: RunningEmulator) -> Repo:
    return Repo(tmp_path / "repo", emulator.base_url)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def _flat(text: str) -> str:
    """The report with each wrapped `#` note on one line."""
    return re.sub(r"\n\s*#   ", " ", text)


def _added(text: str) -> set[str]:
    """The field paths of the `+ path: value` lines of a report."""
    return {m.group(1) for m in re.finditer(r"^\s*\+ ([^:]+):", text, re.MULTILINE)}


def test_a_creation_shows_what_the_repository_says_and_names_the_rest_apart(
    capsys: pytest.CaptureFixture[str], repo: Repo
) -> None:
    repo.write("orders.yaml", api_yaml("orders"))
    code, text = _run(capsys, "diff", str(repo.root))
    assert code == 0
    shown = _added(text)
    assert {"name", "description", "version", "type", "listeners", "plans"} <= shown
    assert not shown & {"hrid", "notifyMembers", "lifecycleState", "state", "visibility"}
    assert '+ plans: {"Free": {"name": "Free", "security": {"type": "KEY_LESS"}}}' in text
    (note,) = [line for line in _flat(text).splitlines() if "set by the reconciler" in line]
    assert "hrid, lifecycleState, notifyMembers, state, visibility" in note
    assert "plans.Free: hrid, mode, status, type, validation" in note

    code, verbose = _run(capsys, "diff", str(repo.root), "--verbose")
    assert '+ hrid: "default-orders"' in verbose and '+ plans.Free.mode: "STANDARD"' in verbose
    assert verbose.index("# set by the reconciler") < verbose.index('+ hrid: "default-orders"')

    code, markdown = _run(capsys, "diff", str(repo.root), "--output", "markdown")
    assert "+ hrid:" not in markdown and "set by the reconciler" in markdown

    code, report = run_json(capsys, "diff", str(repo.root))
    changes = {c["path"]: c for c in report["actions"][0]["changes"]}
    assert changes["hrid"]["written"] is False and changes["hrid"]["filledIn"] == ["hrid"]
    assert changes["name"]["written"] is True and changes["name"]["filledIn"] == []
    assert "plans.Free.mode" in changes["plans"]["filledIn"] and changes["plans"]["written"] is True
    assert changes["plans"]["new"]["Free"]["mode"] == "STANDARD"  # JSON still holds what is sent


def test_a_v2_creation_hides_the_ids_and_context_gko_adds(
    capsys: pytest.CaptureFixture[str], repo: Repo
) -> None:
    repo.write("legacy.yaml", V2_API)
    code, text = _run(capsys, "diff", str(repo.root))
    assert code == 0
    shown = _added(text)
    assert {"name", "description", "version", "plans"} <= shown
    assert not shown & {"id", "crossId", "definition_context", "notifyMembers", "gravitee"}
    assert "definition_context" in _flat(text) and "plans.Free: crossId, id" in _flat(text)


def test_long_values_are_shown_field_by_field_never_cut(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    config = "".join(f"\n            header{i}: value-{i:03d}-" + "v" * 20 for i in range(12))
    body = api_yaml("orders").replace(
        "            target: https://orders.example.com",
        "            target: https://orders.example.com" + config,
    )
    repo.write("orders.yaml", body)
    code, text = _run(capsys, "diff", str(repo.root))
    assert code == 0 and "…" not in text
    assert "+ endpointGroups[0].endpoints[0].configuration.header11: " in text
    assert run_json(capsys, "sync", str(repo.root))[0] == 0

    repo.write("orders.yaml", body.replace("value-011-", "value-999-"))
    code, text = _run(capsys, "diff", str(repo.root))
    assert "…" not in text
    assert "~ endpointGroups[0].endpoints[0].configuration.header11: " in text


def test_a_long_text_is_bounded_and_says_how_much_is_left_out(
    capsys: pytest.CaptureFixture[str], repo: Repo
) -> None:
    page = "".join(f"\n          line {i}" for i in range(200))
    repo.write(
        "orders.yaml",
        api_yaml("orders")
        + "  pages:\n    doc:\n      name: Doc\n      type: MARKDOWN\n      content: |"
        + page
        + "\n",
    )
    code, text = _run(capsys, "diff", str(repo.root))
    assert code == 0
    assert "+ pages.doc.content: |" in text and "line 10\n" in text and "line 199" not in text
    (left,) = re.findall(r"… (\d+) more lines not shown", text)
    shown = [line for line in text.splitlines() if re.fullmatch(r"\s*\+\s+line \d+", line)]
    assert len(shown) + int(left) == 200  # every line of the page is shown or counted


def test_a_secret_in_a_long_value_apim_holds_is_never_split_past_the_scrubber(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """APIM holds a secret value in plain text, in a description long enough to be wrapped right
    across it: the report scrubs the value before wrapping, so no part of it is shown."""
    secrets = tmp_path / "secrets" / "default" / "backend"
    secrets.mkdir(parents=True)
    (secrets / "target").write_text(CANARY)
    repo.write(
        "orders.yaml",
        api_yaml("orders").replace(
            "target: https://orders.example.com", 'target: "[[ secret `backend/target` ]]"'
        ),
    )
    flags = ("--secrets-dir", str(tmp_path / "secrets"))
    assert run_json(capsys, "sync", str(repo.root), *flags)[0] == 0
    _console_description(emulator, "x" * 150 + CANARY + "y" * 300)
    for output in ("text", "markdown", "json"):
        code, out = _run(capsys, "diff", str(repo.root), *flags, "--output", output)
        assert code == 0, out
        for part in (CANARY, CANARY[:12], CANARY[-10:], CANARY[8:20]):
            assert part not in out, (output, part)
        assert "(sensitive)" in out
    report = json.loads(out)
    (change,) = [c for c in report["actions"][0]["changes"] if c["path"] == "description"]
    assert change["sensitive"] is True and change["diff"] is None


def _console_description(emulator: RunningEmulator, description: str) -> None:
    with httpx.Client(base_url=emulator.base_url, headers={"Authorization": "Bearer emulator-token"}) as http:
        (found,) = http.get(f"{MAPI}/apis").json()["data"]
        current = http.get(f"{MAPI}/apis/{found['id']}")
        body = current.json()
        keep = (
            "name",
            "apiVersion",
            "definitionVersion",
            "type",
            "visibility",
            "lifecycleState",
            "listeners",
        )
        update = {k: body[k] for k in (*keep, "endpointGroups") if k in body}
        update["description"] = description
        response = http.put(
            f"{MAPI}/apis/{found['id']}", json=update, headers={"If-Match": current.headers["ETag"]}
        )
        assert response.status_code == 200, response.text


V2_API = """\
apiVersion: gravitee.io/v1alpha1
kind: ApiDefinition
metadata:
  name: legacy
spec:
  contextRef:
    name: apim
  name: legacy
  description: A v2 API
  version: "1.0"
  proxy:
    virtual_hosts:
      - path: /legacy
    groups:
      - name: default
        endpoints:
          - name: backend
            target: https://legacy.example.com
  plans:
    - name: Free
      description: free
      security: KEY_LESS
"""


def test_a_secret_in_a_value_shown_field_by_field_stays_hidden_in_every_format(
    capsys: pytest.CaptureFixture[str], repo: Repo, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets" / "default" / "backend"
    secrets.mkdir(parents=True)
    (secrets / "token").write_text(CANARY)
    config = "".join(f"\n            header{i}: value-{i:03d}-" + "v" * 20 for i in range(6))
    repo.write(
        "orders.yaml",
        api_yaml("orders").replace(
            "            target: https://orders.example.com",
            "            target: https://orders.example.com"
            + config
            + '\n            token: "[[ secret `backend/token` ]]"',
        ),
    )
    flags = ("--secrets-dir", str(tmp_path / "secrets"))
    for extra in ((), ("--verbose",), ("--output", "markdown"), ("--output", "json")):
        code, out = _run(capsys, "diff", str(repo.root), *flags, *extra)
        assert code == 0 and CANARY not in out and CANARY[:12] not in out and CANARY[-10:] not in out
        if "json" not in extra:
            assert "+ endpointGroups[0].endpoints[0].configuration.token: (sensitive)" in out
