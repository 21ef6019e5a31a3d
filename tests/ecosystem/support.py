"""Helpers of the ecosystem tests: the CLI's flags, a Dockerfile reader, .dockerignore rules, and
running a command as a user other than root (CI runs as root; the image does not)."""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.cli import build_parser, env_name
from reconciler.cli.flagtable import commands as flag_commands

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def load_yaml_all(text: str) -> list[Any]:
    """Every document of a YAML stream as plain data (ruamel, the project's own YAML library)."""
    return [doc for doc in YAML(typ="safe", pure=True).load_all(text) if doc is not None]


def load_yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


# ---------------------------------------------------------------------------------------------------
# The command line, as the parser defines it: what manifests, CI files and docs may refer to.


@dataclass(frozen=True)
class Command:
    """One subcommand: its option strings and the RECONCILER_* variables it reads."""

    name: str
    flags: frozenset[str]
    envs: frozenset[str]
    positionals: tuple[str, ...]


def cli_commands() -> dict[str, Command]:
    """Every subcommand of `reconciler.cli.build_parser()`, walked through argparse's actions.

    A flag reads an environment variable when its help says `[env NAME...]`, as `_option` and
    `_flag` write it; NAME must also be `env_name(flag)`, so that help and code cannot disagree."""
    commands: dict[str, Command] = {}
    for name, sub in flag_commands(build_parser()).items():
        flags: set[str] = set()
        envs: set[str] = set()
        positionals: list[str] = []
        for action in sub._actions:
            mentioned = re.findall(r"\[env (RECONCILER_[A-Z0-9_]+)", action.help or "")
            if not action.option_strings:
                positionals.append(action.dest)
                if env_name(f"--{action.dest}") in mentioned:  # run's SOURCE: RECONCILER_SOURCE
                    envs.add(env_name(f"--{action.dest}"))
                continue
            flags.update(action.option_strings)
            for option in action.option_strings:
                if env_name(option) in mentioned:
                    envs.add(env_name(option))
        commands[name] = Command(name, frozenset(flags), frozenset(envs), tuple(positionals))
    return commands


def has_run_command() -> bool:
    """Whether the daemon's `run` command exists yet (its author is writing it in parallel)."""
    return "run" in cli_commands()


def check_command_line(argv: Sequence[str], commands: Mapping[str, Command]) -> list[str]:
    """Problems with `apim-reconciler ARGV...`: an unknown command, or a flag it does not take."""
    words = [w for w in argv if w != "apim-reconciler"]
    if not words:
        return ["no command"]
    name = " ".join(words[:2]) if " ".join(words[:2]) in commands else words[0]  # service-account create
    command = commands.get(name)
    if command is None:
        return [f"unknown command {name!r} (known: {', '.join(sorted(commands))})"]
    problems = []
    for word in words[len(name.split()) :]:
        if word.startswith("--"):
            flag = word.split("=", 1)[0]
            if flag not in command.flags:
                problems.append(f"`{name}` has no flag {flag}")
    return problems


# ---------------------------------------------------------------------------------------------------
# Dockerfile


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def dockerfile_stages(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARGs and the stages of a Dockerfile: (KEYWORD, arguments) with continuations joined and
    comments dropped. Enough of the syntax for our own Dockerfile (no heredocs, no escape directive)."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped by Docker too
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for instruction in logical:
        keyword, _, args = instruction.partition(" ")
        keyword = keyword.upper()
        args = args.strip()
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        elif not stages:
            if keyword == "ARG":
                key, _, value = args.partition("=")
                global_args[key] = value
        else:
            stages[-1].instructions.append((keyword, args))
    return global_args, stages


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form ENTRYPOINT/CMD/HEALTHCHECK CMD."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def env_pairs(args: str) -> dict[str, str]:
    """`ENV A=1 B=2` (the key=value form; the legacy `ENV A 1` form is not used here)."""
    pairs = {}
    for word in shlex.split(args):
        key, sep, value = word.partition("=")
        assert sep, f"ENV in key=value form only: {args}"
        pairs[key] = value
    return pairs


# ---------------------------------------------------------------------------------------------------
# .dockerignore, with Docker's rules: patterns in order, the last match wins, `!` re-includes, `**`
# spans directories, and a file is excluded when the pattern matches the file or one of its parents.


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c))
        i += 1
    return re.compile(out + r"\Z")


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((negate, _pattern_regex(pattern)))
    return rules


def ignored(path: str, rules: Sequence[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negate, regex in rules:
        if any(regex.match(p) for p in prefixes):
            excluded = not negate
    return excluded


def build_context(repo: Path, dest: Path, dockerignore: str) -> list[str]:
    """Copy what `docker build` would send from `repo` into `dest` (symlinks kept as links, as Docker
    does); returns the relative paths sent."""
    rules = dockerignore_rules(dockerignore)
    reincluded = [line.strip()[1:].strip().lstrip("/") for line in dockerignore.splitlines()]
    sent = []
    for root, dirs, files in os.walk(repo):  # does not descend into symlinked folders
        rel_root = os.path.relpath(root, repo)
        for name in files + [d for d in dirs if Path(root, d).is_symlink()]:
            rel = os.path.normpath(os.path.join(rel_root, name))
            if ignored(rel, rules):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            source = Path(root, name)
            if source.is_symlink():
                target.symlink_to(os.readlink(source))
            else:
                shutil.copy2(source, target)
            sent.append(rel)
        # Skip folders that are excluded and that no `!` rule reaches into (.git, .venv: speed only).
        dirs[:] = [
            d
            for d in dirs
            if not ignored(os.path.normpath(os.path.join(rel_root, d)), rules)
            or any(r.startswith(os.path.normpath(os.path.join(rel_root, d))) for r in reincluded)
        ]
    return sorted(sent)


# ---------------------------------------------------------------------------------------------------
# Running as somebody other than root.

TEST_USER = "apimrectest"


@dataclass(frozen=True)
class AsUser:
    """Runs commands as an unprivileged user: ourselves if we are not root, else a test user."""

    name: str
    uid: int
    gid: int
    prefix: tuple[str, ...]

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        timeout: float = 600,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        # runuser resets nothing when given --preserve... it is simpler to pass the environment through
        # `env -i`, so that nothing of root's environment (HOME=/root, PIP_* settings) leaks in.
        full = [*self.prefix, "env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv]
        result = subprocess.run(full, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{shlex.join(argv)} exited {result.returncode}\n--- stdout\n{result.stdout}"
                f"\n--- stderr\n{result.stderr}"
            )
        return result

    def popen(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
    ) -> subprocess.Popen[str]:
        """Started in a session of its own: `os.killpg` stops it and whatever it started."""
        full = [*self.prefix, "env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv]
        return subprocess.Popen(
            full, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )

    def chown(self, paths: Iterable[Path]) -> None:
        if os.geteuid() != 0:
            return
        for top in paths:
            os.chown(top, self.uid, self.gid)
            for root, dirs, files in os.walk(top):
                for name in dirs + files:
                    os.chown(os.path.join(root, name), self.uid, self.gid, follow_symlinks=False)


def unprivileged_user() -> AsUser:
    """Ourselves when not root; as root, a system user made with useradd (skips, with the reason, when
    that is impossible)."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return AsUser(me.pw_name, me.pw_uid, me.pw_gid, ())
    try:
        entry = pwd.getpwnam(TEST_USER)
    except KeyError:
        if shutil.which("useradd") is None:
            pytest.skip("running as root and useradd is not available to create an unprivileged user")
        made = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", TEST_USER],
            capture_output=True,
            text=True,
        )
        if made.returncode != 0:
            pytest.skip(f"running as root and useradd failed: {made.stderr.strip()}")
        entry = pwd.getpwnam(TEST_USER)
    if shutil.which("runuser"):
        prefix: tuple[str, ...] = ("runuser", "-u", TEST_USER, "--")
    elif shutil.which("setpriv"):
        prefix = ("setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups")
    else:
        pytest.skip("running as root and neither runuser nor setpriv is available to drop privileges")
    user = AsUser(TEST_USER, entry.pw_uid, entry.pw_gid, prefix)
    probe = user.run(["id", "-u"], env={"PATH": "/usr/bin:/bin"}, check=False)
    if probe.returncode != 0 or probe.stdout.strip() != str(entry.pw_uid):
        pytest.skip(f"could not run a command as {TEST_USER}: {probe.stderr.strip()}")
    return user


def python_for(user: AsUser) -> str:
    """A Python >= 3.11 with venv support that `user` may run: ours (when not under a private home such
    as /root/.pyenv) or the system's."""
    candidates = [
        sys._base_executable,
        shutil.which("python3.11"),
        shutil.which("python3"),
        "/usr/bin/python3",
    ]
    probe = "import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 11) else 1)"
    for candidate in dict.fromkeys(c for c in candidates if c):
        ok = user.run([candidate, "-c", probe], env={"PATH": "/usr/bin:/bin"}, check=False)
        if ok.returncode == 0:
            return candidate
    pytest.skip(f"no Python >= 3.11 with venv and ensurepip that user {user.name} may run ({candidates})")
