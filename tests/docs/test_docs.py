"""The README and docs/ are the test: every shell and Python block they show is run as a reader would
run it, and what it prints is checked, or it says why it cannot run here (see `blocks`).

Each runnable block runs in a scratch folder holding copies of samples/ and schemas/, with this
venv's `apim-reconciler` first on PATH and no RECONCILER_* or APIM_* variable inherited; `emulator`
blocks get a fresh emulator on a free port of 127.0.0.1, written into the files and commands where
the documents show 8083, and back into the output before it is compared.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli import build_parser
from reconciler.emulator import EmulatorConfig, start_emulator
from tests.docs.blocks import RUNNABLE, SHELL, Block, MarkdownError, documents, parse_blocks
from tests.docs.session import (
    Scene,
    base_env,
    check_console,
    check_python,
    check_script,
    normalise,
    run_console,
)
from tests.docs.setups import prepare

REPO = Path(__file__).resolve().parents[2]


def all_blocks() -> list[Block]:
    return [b for doc in documents(REPO) for b in parse_blocks(doc.read_text(), str(doc.relative_to(REPO)))]


def _safe_blocks() -> list[Block]:
    try:
        return all_blocks()
    except MarkdownError:
        return []  # test_documents_follow_the_rules says why


BLOCKS = _safe_blocks()
RUN = [b for b in BLOCKS if b.marker is not None and b.marker.runnable]
NOT_RUN = [b for b in BLOCKS if b.marker is not None and not b.marker.runnable]


def test_documents_follow_the_rules() -> None:
    """Every fence names its language, and every block that could be run is run or says why not."""
    blocks = all_blocks()  # raises MarkdownError at the first bare fence or stray marker
    unmarked = [f"{b.id} (```{b.language})" for b in blocks if b.language in RUNNABLE and b.marker is None]
    assert unmarked == [], "blocks neither run nor marked <!-- not-run: reason -->: " + ", ".join(unmarked)
    assert len(RUN) >= 10, [b.id for b in RUN]


def test_the_promised_examples_run() -> None:
    commands = [c.text for b in RUN for c in b.commands]
    for expected in ("apim-reconciler validate samples/", "apim-reconciler diff samples/"):
        assert expected in commands
    assert any(c.startswith("apim-reconciler export ") for c in commands)
    assert any(c.startswith("apim-reconciler service-account check ") for c in commands)


@pytest.fixture
def scene(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Scene]:
    block: Block = request.param
    assert block.marker is not None
    folder = tmp_path / "reader"
    folder.mkdir()
    env = base_env(folder)
    if not block.marker.emulator:
        port = _free_port() if block.marker.port else None
        yield prepare(block, Scene(folder, env, port))
        return
    with start_emulator(EmulatorConfig(port=0)) as emulator:
        port = int(emulator.base_url.rsplit(":", 1)[1])
        yield prepare(block, Scene(folder, env, port, emulator.base_url))


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("scene", RUN, ids=[b.id for b in RUN], indirect=True)
def test_runnable_block(scene: Scene, request: pytest.FixtureRequest) -> None:
    block: Block = request.node.callspec.params["scene"]
    if block.language == "console":
        check_console(block, scene)
    elif block.language in SHELL:
        check_script(block, scene)
    else:
        check_python(block, scene)


def apim_reconciler_commands(block: Block) -> list[list[str]]:
    """The argument lists of every `apim-reconciler` command of a shell block (not of an image name)."""
    text = "\n".join(c.text for c in block.commands) if block.commands else "\n".join(block.body)
    text = text.replace("\\\n", " ")
    found = []
    for segment in re.split(r"&&|\|\||[;|&\n]", text):
        words = shlex.split(segment, comments=True)
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
            words = words[1:]  # VAR=value before the command
        if words and words[0] == "apim-reconciler":
            found.append(words[1:])
    return found


class _Refused(Exception):
    pass


def _parse(argv: list[str]) -> None:
    parser = build_parser()

    def refuse(message: str) -> None:
        raise _Refused(message)

    for each in [parser, *_subparsers(parser)]:
        each.error = refuse  # type: ignore[method-assign]
    try:
        parser.parse_args(argv)
    except SystemExit as exc:  # --help and the like
        if exc.code not in (0, None):
            raise _Refused(f"exit {exc.code}") from None


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += [sub, *_subparsers(sub)]
    return found


@pytest.mark.parametrize("block", NOT_RUN, ids=[b.id for b in NOT_RUN])
def test_commands_of_blocks_not_run_are_accepted_by_the_parser(block: Block) -> None:
    """What cannot run here is still a command line the tool accepts (flags, choices, arguments)."""
    refused = []
    for argv in apim_reconciler_commands(block):
        try:
            _parse(argv)
        except _Refused as exc:
            refused.append(f"apim-reconciler {shlex.join(argv)}: {exc}")
    assert refused == [], f"{block.id}: " + "; ".join(refused)


# ------------------------------------------------------------------ the checker itself


def test_markers_options_and_console_commands_are_read() -> None:
    text = (
        "<!-- runnable emulator setup=a,b -->\n```console\n$ echo a \\\n  b\na b\n$ false  # exit 1: fails\n```\n"
        "  <!-- not-run: needs a real cluster here -->\n  ```sh\n  kubectl apply -k x\n  ```\n"
        "```text\nplain\n```\n"
    )
    first, second, third = parse_blocks(text, "doc.md")
    assert first.marker is not None and first.marker.emulator and first.marker.setups == ("a", "b")
    assert [(c.text, c.expected, c.exit_code, c.line) for c in first.commands] == [
        ("echo a \\\n  b", ("a b",), 0, 3),
        ("false  # exit 1: fails", (), 1, 6),
    ]
    assert (first.line, second.line, third.line) == (2, 9, 12)
    assert second.marker is not None and not second.marker.runnable and second.body == ("kubectl apply -k x",)
    assert third.marker is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("```\nbare\n```\n", "names its language"),
        ("<!-- runnable please -->\n```sh\ntrue\n```\n", "unknown runnable option"),
        ("<!-- runnable -->\n\n```sh\ntrue\n```\n", "right before"),
        ("<!-- runnable -->\nprose\n", "right before"),
        ("<!-- not-run: no -->\n```sh\ntrue\n```\n", "says why"),
        ("<!-- runnable -->\n```yaml\na: 1\n```\n", "cannot be run"),
        ("<!-- runnable -->\n```console\noutput first\n```\n", "output before"),
        ("<!-- runable -->\n```sh\ntrue\n```\n", None),  # not a marker at all: the block is unmarked
    ],
)
def test_broken_markdown_is_refused(text: str, message: str | None) -> None:
    if message is None:
        assert parse_blocks(text, "doc.md")[0].marker is None
        return
    with pytest.raises(MarkdownError, match=message):
        parse_blocks(text, "doc.md")


def test_an_unmarked_shell_block_fails_the_rules(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("```sh\napim-reconciler validate .\n```\n")
    blocks = [b for d in documents(tmp_path) for b in parse_blocks(d.read_text(), d.name)]
    assert [b.id for b in blocks if b.language in RUNNABLE and b.marker is None] == ["README.md:1"]


def test_volatile_values_are_normalised_on_both_sides() -> None:
    line = "modified at 2026-11-23T11:28:01.629Z by 9cbfb6f4-07b9-4609-ab22-5442eab00f28 (token-20261123T114623798176Z) in 12 ms"
    assert normalise(line) == "modified at <time> by <uuid> (token-<time>) in <duration>"
    assert (
        normalise("listening on http://127.0.0.1:41234/x", port=41234)
        == "listening on http://127.0.0.1:8083/x"
    )
    assert (
        normalise("HTTP 412 after 1 s; 10 resources", port=None) == "HTTP 412 after <duration>; 10 resources"
    )


def _scene(tmp_path: Path) -> Scene:
    folder = tmp_path / "reader"
    folder.mkdir()
    shutil.copytree(REPO / "samples", folder / "samples")
    return Scene(folder, base_env(folder))


def test_a_wrong_output_or_exit_status_is_caught(tmp_path: Path) -> None:
    """The comparison can fail: the validate example with a wrong count, then with a wrong status."""
    scene = _scene(tmp_path)
    (wrong_count,) = parse_blocks(
        "<!-- runnable -->\n```console\n$ apim-reconciler validate samples/\n"
        "7 resources OK, 0 errors, 0 warnings in 6 files\n```\n",
        "doc.md",
    )
    with pytest.raises(AssertionError, match="printed something else"):
        check_console(wrong_count, scene)
    (wrong_status,) = parse_blocks(
        "<!-- runnable -->\n```console\n$ apim-reconciler validate samples/  # exit 1: broken\n```\n",
        "doc.md",
    )
    with pytest.raises(AssertionError, match="exited 0, the document says 1"):
        check_console(wrong_status, scene)
    (failing,) = parse_blocks("<!-- runnable -->\n```sh\ntrue\nfalse\ntrue\n```\n", "doc.md")
    with pytest.raises(AssertionError, match="exited 1"):
        check_script(failing, scene)


def test_a_session_keeps_its_state_and_cuts_outputs_apart(tmp_path: Path) -> None:
    (block,) = parse_blocks(
        "<!-- runnable -->\n```console\n$ export GREETING=hello; cd samples\n"
        "$ printf 'no newline'\nno newline\n$ echo \"$GREETING from $(basename $PWD)\"\nhello from samples\n"
        "$ printf ''\n```\n",
        "doc.md",
    )
    outcomes, _ = run_console(block, _scene(tmp_path))
    assert [(o.stdout, o.exit_code) for o in outcomes] == [
        ("", 0),
        ("no newline", 0),
        ("hello from samples\n", 0),
        ("", 0),
    ]


def test_background_jobs_of_a_block_are_stopped(tmp_path: Path) -> None:
    scene = _scene(tmp_path)
    (block,) = parse_blocks("<!-- runnable -->\n```sh\nsleep 600 &\necho $! > pid\n```\n", "doc.md")
    check_script(block, scene)
    pid = int((scene.folder / "pid").read_text())
    import time

    for _ in range(100):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state == "Z":  # dead, waiting for whoever adopted it to reap it
            return
        time.sleep(0.05)
    pytest.fail(f"the background job {pid} outlived its block")


def test_commands_of_blocks_not_run_can_be_refused() -> None:
    (block,) = parse_blocks(
        "<!-- not-run: it talks to a real server -->\n```sh\nFOO=1 apim-reconciler sync . --no-such-flag && \\\n"
        "  apim-reconciler validate . | tee out\ndocker run apim-reconciler:0.1.0 diff /repo\n```\n",
        "doc.md",
    )
    assert apim_reconciler_commands(block) == [["sync", ".", "--no-such-flag"], ["validate", "."]]
    with pytest.raises(_Refused, match="no-such-flag"):
        _parse(["sync", ".", "--no-such-flag"])
    _parse(["validate", "."])


def test_show_writes_what_the_block_prints_today(tmp_path: Path) -> None:
    """`python -m tests.docs.show --write` puts today's output in place of a block's stale one."""
    from tests.docs import show

    doc = tmp_path / "doc.md"
    doc.write_text(
        "Intro.\n\n<!-- runnable -->\n```console\n$ apim-reconciler validate samples/\nstale output\n"
        "$ echo done\n```\n\nAfter.\n"
    )
    assert show.main("doc.md:4", write=True, root=tmp_path) == 0
    assert doc.read_text() == (
        "Intro.\n\n<!-- runnable -->\n```console\n$ apim-reconciler validate samples/\n"
        "6 resources OK, 0 errors, 0 warnings in 6 files\n$ echo done\ndone\n```\n\nAfter.\n"
    )
