"""Running one git command: private environment, no prompt, a hard time limit, scrubbed output.

Every git subprocess of the source stage goes through `GitRunner.run` so that the rules hold for
all of them: ``GIT_TERMINAL_PROMPT=0`` (nothing waits for a keyboard), stdin closed, a timeout that
kills the whole process group (git's ``ssh`` and ``git-remote-http`` children included, which would
otherwise keep the pipes open), the caller's ``GIT_DIR``-like variables dropped so that they cannot
redirect us to another repository, and only the transports we support allowed (no ``ext::``).

Why not GitPython's ``Git.execute``: it merges the whole parent environment back in and kills only
the children it can enumerate with ``pgrep``; here the environment is built from an allow-list and
the process group dies as one. GitPython still reads the cache (see `git.py`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess  # git is run with an argv list, never a shell  # nosec B404
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.source.errors import SourceError, SourceTimeoutError
from reconciler.source.redact import Scrubber

#: Transports git may use, for the URL and for anything a server redirects to.
ALLOWED_PROTOCOLS = "file:git:http:https:ssh"

#: GIT_* variables of the caller that are kept: TLS and config-location settings, nothing that
#: points git at another repository, work tree or askpass program.
_KEPT_GIT_VARIABLES = frozenset(
    {
        "GIT_SSL_CAINFO",
        "GIT_SSL_CAPATH",
        "GIT_SSL_CERT",
        "GIT_SSL_KEY",
        "GIT_SSL_NO_VERIFY",
        "GIT_HTTP_USER_AGENT",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_EXEC_PATH",
    }
)
_DROPPED_VARIABLES = frozenset({"SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "GCM_INTERACTIVE"})

#: Options put before every command: no credential helper of the user's config answers (or stores)
#: anything; the askpass helper of `gitauth` is the only source of credentials.
_GLOBAL_OPTIONS = ("-c", "credential.helper=", "-c", "core.askPass=", "-c", "advice.detachedHead=false")


@dataclass(frozen=True, slots=True)
class GitResult:
    """What a finished git command printed; ``stderr`` is already scrubbed of the operation's secrets."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def base_environment(parent: Mapping[str, str]) -> dict[str, str]:
    """The environment every git command starts from, derived from ``parent`` (normally os.environ)."""
    env = {
        key: value
        for key, value in parent.items()
        if key not in _DROPPED_VARIABLES and (not key.startswith("GIT_") or key in _KEPT_GIT_VARIABLES)
    }
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ALLOW_PROTOCOL": ALLOWED_PROTOCOLS,
            "GCM_INTERACTIVE": "never",
            "LC_ALL": "C",
            "LANGUAGE": "C",
        }
    )
    return env


SpawnHook = Callable[[tuple[str, ...], Mapping[str, str]], None]


class GitRunner:
    """Runs git commands; ``on_spawn(argv, env)`` lets tests see every command line that was built."""

    def __init__(
        self,
        *,
        executable: str = "git",
        parent_environment: Mapping[str, str] | None = None,
        on_spawn: SpawnHook | None = None,
    ) -> None:
        self._executable = executable
        self._base_env = base_environment(os.environ if parent_environment is None else parent_environment)
        self._on_spawn = on_spawn

    def run(
        self,
        args: Sequence[str],
        *,
        timeout: float,
        cwd: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        scrubber: Scrubber | None = None,
        what: str = "git",
    ) -> GitResult:
        """Run ``git <args>``; a timeout raises `SourceTimeoutError`, a missing git `SourceError`.

        A non-zero exit is returned, not raised: the caller knows which failures are expected.
        """
        argv = (self._executable, *_GLOBAL_OPTIONS, *args)
        env = dict(self._base_env)
        if extra_env:
            env.update(extra_env)
        scrub = scrubber or Scrubber()
        if self._on_spawn is not None:
            self._on_spawn(argv, env)
        try:
            proc = subprocess.Popen(  # argv built by us (git + fixed args), no shell  # nosec B603
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # no controlling terminal, and one group to kill
            )
        except OSError as error:
            raise SourceError(f"cannot run {self._executable!r}: {error.strerror}") from None
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise SourceTimeoutError(f"{what} did not finish within {timeout:g} s and was stopped") from None
        except BaseException:
            _kill_group(proc)
            raise
        return GitResult(
            argv=argv,
            returncode=proc.returncode,
            stdout=out.decode("utf-8", "replace"),
            stderr=scrub.scrub(err.decode("utf-8", "replace")),
        )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
