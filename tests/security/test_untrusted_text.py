"""Text from a pull request or from APIM cannot forge output: a file name with a newline cannot start
a line of its own, an escape sequence never reaches the terminal, a value or an APIM message cannot
break out of the Markdown comment's table or code blocks, and JSON output holds no raw control
character."""

from __future__ import annotations

import json
import re
from pathlib import Path

from reconciler.emulator import RunningEmulator
from tests.security.helpers import api_yaml, cli, context_yaml, echo_apim, write_repo, write_secret

ESC = "\x1b"
FORGED = "ok.yaml:1:1: error: FORGED LINE"


def test_a_file_name_with_a_newline_and_escapes_cannot_forge_lines(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    name = f"evil\n{FORGED}\x1b]0;owned\x07\x1b[2J\u009b31m\u202e.yaml"
    root = write_repo(tmp_path / "repo", {"ctx.yaml": context_yaml("apim", emulator.base_url)})
    (root / name).write_text(api_yaml("probe").replace("  version: ", "  versio: "))  # one error in it
    secrets = tmp_path / "secrets"
    write_secret(secrets, "apim", "bearerToken", "emulator-token")

    runs = {
        "validate": cli("validate", root),
        "validate json": cli("validate", root, "--output", "json"),
        "diff": cli("diff", root, "--secrets-dir", secrets),
        "diff markdown": cli("diff", root, "--secrets-dir", secrets, "--output", "markdown"),
        "diff json": cli("diff", root, "--secrets-dir", secrets, "--output", "json"),
    }
    for label, run in runs.items():
        assert run.returncode == 1, label
        for stream in (run.stdout, run.stderr):
            assert not any(line.startswith(FORGED) for line in stream.splitlines()), f"{label}: {stream}"
            assert ESC not in stream and "\u009b" not in stream and "\u202e" not in stream, (
                f"{label}: {stream!r}"
            )
    # The name is shown escaped (and the file is refused for it: a name that can forge lines is not read).
    assert "evil\\x0aok.yaml:1:1: error: FORGED LINE\\x1b]0;owned\\x07" in runs["validate"].stdout
    document = json.loads(runs["validate json"].stdout)
    assert any(p["file"] and p["file"].startswith(str(root / "evil\\x0a")) for p in document["problems"])


def test_names_and_apim_messages_cannot_break_out_of_the_pull_request_comment(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    """The Markdown comment quotes three kinds of untrusted text: problems (file names, manifest
    names) in a fenced block, and APIM's error messages in table cells."""
    root = write_repo(tmp_path / "repo", {"ctx.yaml": context_yaml("apim", emulator.base_url)})
    (root / "````` fence.yaml").write_text(api_yaml("probe").replace("  version: ", "  versio: "))
    bad_name = json.dumps("bad\n````\n## INJECTED HEADING\n<details>")
    (root / "name.yaml").write_text(
        api_yaml("named").replace("  name: named\nspec", f"  name: {bad_name}\nspec")
    )
    secrets = tmp_path / "secrets"
    write_secret(secrets, "apim", "bearerToken", "emulator-token")
    write_secret(secrets, "apim", "baseUrl", emulator.base_url)
    broken = cli("diff", root, "--secrets-dir", secrets, "--output", "markdown")
    assert broken.returncode == 1 and "#### Errors" in broken.stdout
    _assert_structure(broken.stdout, rows=0)

    message = "bad | cell `code` [click](http://evil.example) <details><summary>x</summary> **bold**\n## H"

    def reply(status: int, authorization: str, body: bytes) -> bytes:
        return json.dumps({"httpStatus": status, "message": message}).encode()

    (root / "````` fence.yaml").unlink()
    (root / "name.yaml").unlink()
    (root / "api.yaml").write_text(api_yaml("probe"))
    with echo_apim(emulator.base_url, lambda method, path: 400 if method == "PUT" else None, reply) as apim:
        (root / "ctx.yaml").write_text(context_yaml("apim", apim.base_url))
        write_secret(secrets, "apim", "baseUrl", apim.base_url)
        sync = cli("sync", root, "--secrets-dir", secrets, "--output", "markdown")
    assert sync.returncode == 1 and "bad \\| cell" in sync.stdout
    _assert_structure(sync.stdout, rows=1)
    assert "\\[click\\]" in sync.stdout and "<details><summary>x" not in sync.stdout


def _assert_structure(comment: str, *, rows: int) -> None:
    """Tables keep their columns, fences close where they should, nothing becomes a heading or HTML."""
    lines = comment.splitlines()
    table = [line for line in lines if line.startswith("| ")]
    assert len(table) == (rows + 2 if rows else 0), comment
    if table:
        assert len({len(re.findall(r"(?<!\\)\|", row)) for row in table}) == 1, table
    outside, fence = [], None
    for line in lines:
        run = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
        if fence is None:
            if run:
                fence = run.group(1)
            else:
                outside.append(line)
        elif run and run.group(1)[0] == fence[0] and len(run.group(1)) >= len(fence):
            assert line.strip() == fence, f"a line closes the fence early: {line!r}"
            fence = None
    assert fence is None, comment
    assert not [
        line for line in outside if (line.startswith("#") and "INJECTED" in line) or line.startswith("## H")
    ]
    assert sum(line.startswith("<details>") for line in outside) == sum(
        line == "</details>" for line in outside
    )
