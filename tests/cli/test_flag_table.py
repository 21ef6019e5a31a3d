"""README.md's configuration table is the parser's: regenerate it when a flag changes."""

from __future__ import annotations

import argparse
from pathlib import Path

from reconciler.cli import build_parser
from reconciler.cli.flagtable import END, START, render, replace_table

DOC = Path(__file__).resolve().parents[2] / "README.md"


def _table() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split(START, 1)[1].split(END, 1)[0]


def test_every_flag_of_every_command_is_in_the_table() -> None:
    table = _table()
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [
        f"{name} {flag}"
        for name, sub in commands.choices.items()
        for action in sub._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag != "--help" and f"`{flag}" not in table
    ]
    assert not missing, "flags missing from README.md; run python -m reconciler.cli.flagtable README.md"


def test_the_table_is_exactly_what_the_parser_says() -> None:
    assert _table() == "\n" + render(build_parser), (
        "README.md is out of date: run python -m reconciler.cli.flagtable README.md"
    )


def test_replace_table_keeps_the_text_around_the_markers() -> None:
    document = f"intro\n{START}\nold\n{END}\noutro\n"
    assert replace_table(document, "new\n") == f"intro\n{START}\nnew\n{END}\noutro\n"
