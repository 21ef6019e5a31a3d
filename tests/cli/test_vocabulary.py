"""One command-line vocabulary: every option has its variable, checked exactly like the flag; a bad
value from either exits 64 with the usage of the command given; no abbreviations; one spelling of a
log level. Parsing only: the handlers never run, because parsing fails or is all that is called."""

from __future__ import annotations

import argparse

import pytest

from reconciler.cli import build_parser, main
from reconciler.cli.flagtable import commands
from reconciler.cli.options import fraction, non_negative, positive_int
from reconciler.cli.parser import action_env

# The arguments each command needs before its options are looked at.
MINIMAL = {
    "validate": ["repo"],
    "check-context": ["repo"],
    "export": ["--context", "c", "--out", "out"],
    "diff": ["repo"],
    "sync": ["repo"],
    "run": ["repo"],
    "schema": [],
    "service-account create": ["--context", "c", "--name", "n"],
    "service-account check": ["--context", "c"],
    "service-account rotate": ["--context", "c"],
    "emulator": [],
}
NUMBER_TYPES = (positive_int, non_negative, fraction, int, float)


def _options() -> list[tuple[str, argparse.Action]]:
    found = []
    for name, parser in commands(build_parser()).items():
        for action in parser._actions:
            if action.option_strings and not isinstance(action, argparse._HelpAction):
                found.append((name, action))
    return found


def test_every_command_is_covered_here() -> None:
    assert set(commands(build_parser())) == set(MINIMAL)


def test_every_option_of_every_command_has_its_variable_named_in_its_help() -> None:
    missing = [
        f"{name} {action.option_strings[0]}"
        for name, action in _options()
        if action.help != argparse.SUPPRESS
        and (action_env(action) is None or action_env(action) not in action.help)
    ]
    assert missing == []


def _bad_value(action: argparse.Action) -> str | None:
    if action.nargs == 0:
        return "maybe"
    if action.choices is not None:
        return "not-a-choice"
    if action.type in NUMBER_TYPES:
        return "many"
    return None


CHECKED = [(name, action) for name, action in _options() if action_env(action) and _bad_value(action)]


@pytest.mark.parametrize(
    ("command", "action"), CHECKED, ids=[f"{name} {a.option_strings[0]}" for name, a in CHECKED]
)
def test_a_bad_value_in_a_variable_is_the_usage_error_of_its_flag(
    command: str, action: argparse.Action, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = action_env(action)
    assert env is not None
    monkeypatch.setenv(env, str(_bad_value(action)))
    assert main([*command.split(), *MINIMAL[command]]) == 64
    err = capsys.readouterr().err
    assert f"usage: apim-reconciler {command} " in err
    assert f"{env}='{_bad_value(action)}' is not a valid value for {action.option_strings[0]}" in err
    assert "Traceback" not in err


def test_the_examples_of_the_issue(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for env, value in (
        ("RECONCILER_LOG_LEVEL", "verbose"),
        ("RECONCILER_OUTPUT", "yaml"),
        ("RECONCILER_LOG_FORMAT", "pretty"),
    ):
        monkeypatch.setenv(env, value)
        assert main(["diff", "repo"]) == 64, env
        assert f"{env}={value!r} is not a valid value" in capsys.readouterr().err
        monkeypatch.delenv(env)


def test_a_prefix_of_a_flag_is_an_unknown_flag_with_the_commands_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["diff", "repo", "--exit-cod"]) == 64
    err = capsys.readouterr().err
    assert "usage: apim-reconciler diff " in err
    assert "unrecognized arguments: --exit-cod" in err
    assert main(["service-account", "check", "--context", "c", "--warn"]) == 64
    err = capsys.readouterr().err
    assert "usage: apim-reconciler service-account check " in err
    assert "unrecognized arguments: --warn" in err


def test_log_levels_are_one_spelling_in_any_case() -> None:
    parser = build_parser()
    for argv in (["validate", "repo"], ["emulator"], ["run", "repo"]):
        for level in ("DEBUG", "debug", "Warning"):
            assert parser.parse_args([*argv, "--log-level", level]).log_level == level.lower()


def test_variables_take_lists_booleans_and_satisfy_required_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = build_parser()
    monkeypatch.setenv("RECONCILER_KIND", "Application, ApiDefinition")
    monkeypatch.setenv("RECONCILER_PRUNE", "false")
    monkeypatch.setenv("RECONCILER_OUTPUT", "json")
    args = parser.parse_args(["sync", "repo"])
    assert (args.kind, args.prune, args.output) == (["Application", "ApiDefinition"], False, "json")
    args = parser.parse_args(["sync", "repo", "--kind", "ApiV4Definition", "--prune", "--output", "text"])
    assert (args.kind, args.prune, args.output) == (["ApiV4Definition"], True, "text")  # the flag wins
    monkeypatch.setenv("RECONCILER_CONTEXT", "apim")
    assert parser.parse_args(["service-account", "check"]).context == "apim"
    monkeypatch.setenv("RECONCILER_SOURCE", "https://git.example/repo.git")
    assert parser.parse_args(["run"]).source == "https://git.example/repo.git"


def test_a_required_flag_without_its_variable_says_both(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--out", "out"]) == 64
    assert (
        "the following arguments are required: --context (or RECONCILER_CONTEXT)" in capsys.readouterr().err
    )


def test_service_account_and_export_take_the_repository_the_same_way() -> None:
    parser = build_parser()
    assert parser.parse_args(["export", "repo", "--context", "c", "--out", "o"]).path == "repo"
    assert parser.parse_args(["service-account", "check", "repo", "--context", "c"]).path == "repo"
    assert parser.parse_args(["service-account", "check", "--context", "c"]).path == "."
