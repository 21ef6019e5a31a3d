"""The parser of every command: one vocabulary, checked the same way from a flag or its variable.

- A usage error exits 64 (EX_USAGE; 2 means "changes pending" here) with the usage of the command
  that was given, not the top-level one.
- No abbreviations: `--exit-cod` is an unknown flag, not a silent `--exit-code`.
- Every option can also be set by an environment variable, `RECONCILER_<FLAG>` (upper case, dashes as
  underscores), as decK and Flux users expect; a flag on the command line wins. The variable's value
  goes through the flag's own type and choices, so that `RECONCILER_LOG_LEVEL=verbose` is the same
  usage error as `--log-level verbose`. Booleans take true|false (or 1|0); repeatable flags take a
  comma-separated list. `attach_env` gives every option of a built parser its variable, once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from reconciler.exitcodes import ExitCode
from reconciler.textsafe import printable

ENV_PREFIX = "RECONCILER_"
_TRUE = ("true", "1")
_FALSE = ("false", "0")
_ENV_ATTR = "reconciler_env"  # the variable of an action, set by attach_env
_REQUIRED_ATTR = "reconciler_required"  # a required option that its variable may satisfy


class UsageError(Exception):
    """A flag value that parses but makes no sense; exits 64 like any usage error."""


def env_name(flag: str) -> str:
    return ENV_PREFIX + flag.lstrip("-").upper().replace("-", "_")


def action_env(action: argparse.Action) -> str | None:
    """The environment variable that sets this option, if any."""
    value = getattr(action, _ENV_ATTR, None)
    return value if isinstance(value, str) else None


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {printable(message)}\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        parsed, extras = super().parse_known_args(words, namespace)
        if extras:  # here, so that the message comes with this command's usage
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        self._apply_env(parsed, words)
        return parsed, []

    def _apply_env(self, namespace: argparse.Namespace, words: Sequence[str]) -> None:
        for action in self._actions:
            env = action_env(action)
            if env is None or _given(action, words, namespace):
                continue
            value = os.environ.get(env)
            if value is not None:
                setattr(namespace, action.dest, self._env_value(action, env, value))
            if getattr(action, _REQUIRED_ATTR, False) and getattr(namespace, action.dest) is None:
                self.error(f"the following arguments are required: {action.option_strings[0]} (or {env})")

    def _env_value(self, action: argparse.Action, env: str, value: str) -> Any:
        flag = action.option_strings[0] if action.option_strings else action.metavar or action.dest
        try:
            if action.nargs == 0:  # store_true, store_false, --x/--no-x
                if value.lower() not in _TRUE + _FALSE:
                    raise argparse.ArgumentError(action, "expected true or false")
                on = value.lower() in _TRUE
                if isinstance(action, argparse.BooleanOptionalAction):
                    return on
                return action.const if on else action.default
            if isinstance(action, argparse._AppendAction):
                items = [item.strip() for item in value.split(",") if item.strip()]
                return [self._get_values(action, [item]) for item in items]
            return self._get_values(action, [value])
        except argparse.ArgumentError as exc:
            self.error(f"{env}={value!r} is not a valid value for {flag}: {exc.message}")


def _given(action: argparse.Action, words: Sequence[str], namespace: argparse.Namespace) -> bool:
    """Whether the command line set this option (abbreviations are off, so names are whole)."""
    if not action.option_strings:  # an optional positional (run's SOURCE): given when it has a value
        return getattr(namespace, action.dest, None) is not None
    for word in words:
        if word == "--":
            return False
        if any(word == name or word.startswith(name + "=") for name in action.option_strings):
            return True
    return False


def set_env(parser: argparse.ArgumentParser, dest: str, env: str) -> None:
    """Let a variable set the positional argument `dest` (run's SOURCE), as an option's would."""
    action = next(a for a in parser._actions if a.dest == dest)
    setattr(action, _ENV_ATTR, env)
    action.help = _help_with_env(action, env)


def attach_env(parser: argparse.ArgumentParser, names: Mapping[str, str]) -> None:
    """Give every option of `parser` and its subcommands its variable, named in its help.

    `names` maps a flag to a variable whose name is not `env_name(flag)`.
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                attach_env(sub, names)
            continue
        if isinstance(action, argparse._HelpAction | argparse._VersionAction):
            continue
        if action.help == argparse.SUPPRESS or action_env(action) is not None:
            continue
        flag = next((n for n in action.option_strings if n.startswith("--")), None)
        if flag is None:  # a positional, or a short-only flag
            continue
        env = names.get(flag) or env_name(flag)
        setattr(action, _ENV_ATTR, env)
        if action.required:  # checked after the variables are read (Parser._apply_env)
            action.required = False
            setattr(action, _REQUIRED_ATTR, True)
            action.help = f"{action.help} (required)"
        action.help = _help_with_env(action, env)


def _help_with_env(action: argparse.Action, env: str) -> str:
    # BooleanOptionalAction writes its own "(default: ...)" in Python 3.11: the one below replaces it.
    text = str(action.help or "").replace(" (default: %(default)s)", "")
    if action.nargs == 0:
        on = action.default if not isinstance(action, argparse._StoreFalseAction) else not action.default
        return f"{text} [env {env}=true|false] (default: {str(bool(on)).lower()})"
    if isinstance(action, argparse._AppendAction):
        return (
            f"{text} (repeatable) [env {env}=A,B]" if "repeatable" not in text else f"{text} [env {env}=A,B]"
        )
    shown = action.default is not None and action.default != [] and "(default:" not in text
    return f"{text} [env {env}]" + (" (default: %(default)s)" if shown else "")
