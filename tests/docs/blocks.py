"""The fenced code blocks of the project's Markdown, and the markers that say how each is tested.

Every fenced block names its language. A block in a language that can be run (`console`, `sh`,
`bash`, `shell`, `python`) carries an HTML comment, invisible on GitHub, on the line right before
its fence:

    <!-- runnable -->                        run it; options: `emulator`, `port`, `setup=NAME[,NAME]`
    <!-- not-run: why it cannot run here --> not run; its apim-reconciler commands are still parsed

In a ```console block a command is a line starting with `$ ` (and the lines after it while it ends
with `\\`); the lines up to the next command are its exact standard output; a command that must fail
says so in a trailing comment, `# exit N: why`. Other shell blocks are scripts that must exit 0, and
Python blocks programs that must exit 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SHELL = frozenset(("console", "sh", "bash", "shell"))
RUNNABLE = SHELL | {"python"}
OPTIONS = frozenset(("emulator", "port", "setup"))

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_RUNNABLE = re.compile(r"^\s*<!--\s*runnable(?P<options>(?:\s+[\w=,-]+)*)\s*-->\s*$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(?P<reason>.*?)\s*-->\s*$")
_ANY_MARKER = re.compile(r"^\s*<!--\s*(runnable|not-run)\b")
_EXIT = re.compile(r"#\s*exit\s+(?P<code>\d+)\b")


class MarkdownError(ValueError):
    """A block or marker that breaks the rules above, at `file:line`."""


@dataclass(frozen=True)
class Command:
    """One command of a console block: what bash runs, the stdout it must print, its exit status."""

    text: str
    expected: tuple[str, ...]
    exit_code: int
    line: int


@dataclass(frozen=True)
class Marker:
    runnable: bool
    reason: str = ""
    emulator: bool = False
    port: bool = False
    setups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Block:
    document: str
    line: int
    """Of the opening fence, 1-based."""
    language: str
    body: tuple[str, ...]
    marker: Marker | None
    commands: tuple[Command, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.document}:{self.line}"


def parse_marker(text: str, where: str) -> Marker | None:
    """The marker on one line, or None when the line is no marker."""
    not_run = _NOT_RUN.match(text)
    if not_run:
        reason = not_run["reason"]
        if len(reason.split()) < 3:
            raise MarkdownError(f"{where}: a not-run marker says why in a few words, not {reason!r}")
        return Marker(runnable=False, reason=reason)
    runnable = _RUNNABLE.match(text)
    if runnable is None:
        if _ANY_MARKER.match(text):
            raise MarkdownError(f"{where}: malformed marker {text.strip()!r}")
        return None
    options: dict[str, str] = {}
    for option in runnable["options"].split():
        name, _, value = option.partition("=")
        if name not in OPTIONS or (name == "setup") != bool(value):
            raise MarkdownError(
                f"{where}: unknown runnable option {option!r} (known: emulator, port, setup=NAME)"
            )
        options[name] = value
    return Marker(
        runnable=True,
        emulator="emulator" in options,
        port="port" in options or "emulator" in options,
        setups=tuple(s for s in options.get("setup", "").split(",") if s),
    )


def parse_console(body: tuple[str, ...], first_line: int, where: str) -> tuple[Command, ...]:
    commands: list[Command] = []
    lines = list(body)
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("$ "):
            raise MarkdownError(f"{where}:{first_line + index}: output before any `$ ` command")
        start = index
        text = [line[2:]]
        while text[-1].endswith("\\") and index + 1 < len(lines):
            index += 1
            text.append(lines[index])
        index += 1
        expected: list[str] = []
        while index < len(lines) and not lines[index].startswith("$ "):
            expected.append(lines[index])
            index += 1
        code = _EXIT.search(text[-1])
        commands.append(
            Command("\n".join(text), tuple(expected), int(code["code"]) if code else 0, first_line + start)
        )
    return tuple(commands)


def parse_blocks(text: str, document: str) -> list[Block]:
    """Every fenced block of a Markdown text, with its marker (validated) and, for console blocks, its
    commands. Raises MarkdownError on a bare fence, a stray marker, or a malformed console block."""
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    pending: tuple[Marker, int] | None = None
    while index < len(lines):
        line = lines[index]
        where = f"{document}:{index + 1}"
        marker = parse_marker(line, where)
        if marker is not None:
            pending = (marker, index)
            index += 1
            continue
        fence = _FENCE.match(line)
        if fence is None:
            if pending is not None and line.strip():
                raise MarkdownError(
                    f"{document}:{pending[1] + 1}: a marker must sit right before a fenced block"
                )
            index += 1
            continue
        language = fence["info"].strip().split(" ")[0]
        if not language:
            raise MarkdownError(f"{where}: a fenced block names its language (```text for plain text)")
        close = re.compile(rf"^ {{0,3}}{re.escape(fence['fence'][0])}{{{len(fence['fence'])},}}\s*$")
        indent = len(fence["indent"])
        body: list[str] = []
        index += 1
        while index < len(lines) and not close.match(lines[index]):
            body.append(lines[index][indent:] if lines[index][:indent].strip() == "" else lines[index])
            index += 1
        found = pending[0] if pending is not None and pending[1] == index - len(body) - 2 else None
        if pending is not None and found is None:
            raise MarkdownError(f"{document}:{pending[1] + 1}: a marker must sit right before a fenced block")
        if found is not None and language not in RUNNABLE:
            raise MarkdownError(f"{where}: a ```{language} block cannot be run; drop its marker")
        commands = (
            parse_console(tuple(body), index - len(body) + 1, document) if language == "console" else ()
        )
        blocks.append(Block(document, index - len(body), language, tuple(body), found, commands))
        pending = None
        index += 1
    if pending is not None:
        raise MarkdownError(f"{document}:{pending[1] + 1}: a marker must sit right before a fenced block")
    return blocks


def documents(root: Path) -> list[Path]:
    """The Markdown whose blocks are tested: README.md and docs/*.md."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]
