"""Handing credentials to git without putting them where others can read them.

A secret on a command line is visible to every user of the machine (``ps``, ``/proc/*/cmdline``);
a secret in a URL ends up in ``.git/config``, in logs and in error messages. So:

- https token or password: git asks ``GIT_ASKPASS``, a small script in a private temporary folder
  (mode 0700) that prints the value of an environment variable; that variable is set only in the
  environment of the one git process that needs it (readable by the same user only).
- ssh: ``GIT_SSH_COMMAND`` names the key and the known_hosts file, with host key checking on; a key
  passphrase reaches ssh through the same script (``SSH_ASKPASS`` + ``SSH_ASKPASS_REQUIRE=force``).

Secrets are read from their file or variable at every use, so a rotated token (a remounted
Kubernetes secret) is picked up without a restart.
"""

from __future__ import annotations

import os
import shlex
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.secrets.redaction import default_redactor
from reconciler.secrets.store import MAX_SECRET_FILE_SIZE, read_capped
from reconciler.secrets.value import unusable_character
from reconciler.source.errors import SourceAuthError

USERNAME_VARIABLE = "RECONCILER_ASKPASS_USERNAME"
PASSWORD_VARIABLE = "RECONCILER_ASKPASS_PASSWORD"  # a variable name  # nosec B105
PASSPHRASE_VARIABLE = "RECONCILER_ASKPASS_PASSPHRASE"  # a variable name  # nosec B105

#: User name sent with a token when none is given; GitHub, GitLab, Gitea and Bitbucket all accept
#: any non-empty user name with a personal access token.
DEFAULT_TOKEN_USERNAME = "x-access-token"  # the user name git hosts expect with a token  # nosec B105

# Answers only the prompts it knows; anything else (such as ssh asking to accept an unknown host
# key) gets no answer, so that it fails instead of being said "yes" to.
_ASKPASS_SCRIPT = f"""#!/bin/sh
# apim-reconciler askpass helper: answers git's and ssh's prompts from variables set for one process.
case "$1" in
  Username*) [ -n "${{{USERNAME_VARIABLE}+set}}" ] || exit 1; printf '%s\\n' "${USERNAME_VARIABLE}" ;;
  Password*) [ -n "${{{PASSWORD_VARIABLE}+set}}" ] || exit 1; printf '%s\\n' "${PASSWORD_VARIABLE}" ;;
  *passphrase*) [ -n "${{{PASSPHRASE_VARIABLE}+set}}" ] || exit 1; printf '%s\\n' "${PASSPHRASE_VARIABLE}" ;;
  *) exit 1 ;;
esac
"""


@dataclass(frozen=True, slots=True)
class GitAuth:
    """Where the credentials of a git source are; holds paths and variable names, never values.

    https: ``username`` (default `DEFAULT_TOKEN_USERNAME` with a token) plus a token or password,
    each from a file or an environment variable. ssh: a private key file, its passphrase file,
    the known_hosts file to check the server against, an optional ssh config file (``-F``: host
    aliases, ports and jump hosts for scp-like URLs), and ``strict_host_key_checking``, on unless
    turned off explicitly (off accepts any host key, which only makes sense in a lab).
    """

    username: str | None = None
    token_file: Path | None = None
    token_env: str | None = None
    password_file: Path | None = None
    password_env: str | None = None
    ssh_key_file: Path | None = None
    ssh_passphrase_file: Path | None = None
    known_hosts_file: Path | None = None
    ssh_config_file: Path | None = None
    strict_host_key_checking: bool = True
    ssh_connect_timeout: int = 15

    def __post_init__(self) -> None:
        token = self.token_file is not None or self.token_env is not None
        password = self.password_file is not None or self.password_env is not None
        if token and password:
            raise ValueError("give a token or a password, not both")
        if self.token_file is not None and self.token_env is not None:
            raise ValueError("give the token in a file or in a variable, not both")
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("give the password in a file or in a variable, not both")
        if self.ssh_passphrase_file is not None and self.ssh_key_file is None:
            raise ValueError("an ssh key passphrase needs an ssh key file")


@dataclass(frozen=True, slots=True)
class AuthSession:
    """The environment additions for one network git command, and the secret values to scrub."""

    env: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()


def read_secret(*, file: Path | None, variable: str | None, what: str) -> str | None:
    """The secret from its file (one trailing newline dropped) or variable; None when neither is set.

    The value is registered with the process's redactor, and refused (naming the file or variable,
    never the value) when git could not be given it: a line break would end the askpass answer, a
    token is visible ASCII, a password printable ASCII; a file is at most `MAX_SECRET_FILE_SIZE`.
    """
    if file is not None:
        where = f"the {what} file {file}"
        try:
            data = read_capped(file)
        except OSError as error:
            raise SourceAuthError(f"cannot read {where}: {error.strerror}") from None
        if data is None:
            raise SourceAuthError(f"{where} is larger than {MAX_SECRET_FILE_SIZE} bytes")
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SourceAuthError(f"{where} is not UTF-8 text") from None
        value = value.removesuffix("\n").removesuffix("\r")
    elif variable is not None:
        where = f"the {what} variable {variable}"
        found = os.environ.get(variable)
        if found is None:
            raise SourceAuthError(f"{where} is not set")
        value = found
    else:
        return None
    if not value:
        raise SourceAuthError(f"the {what} is empty")
    default_redactor().add(value)
    # A passphrase only goes to ssh, which takes UTF-8; tokens and passwords go into HTTP headers.
    token, passphrase = what == "token", what == "ssh key passphrase"
    problem = unusable_character(value, allow_space=not token, ascii_only=not passphrase)
    if problem is not None:
        rule = "visible ASCII" if token else "printable text on one line" if passphrase else "printable ASCII"
        raise SourceAuthError(f"{where} holds {problem}: a git {what} must be {rule}")
    return value


def ssh_command(auth: GitAuth, *, with_passphrase: bool) -> str:
    """The ``GIT_SSH_COMMAND`` value: key, known_hosts, strict checking, no password prompts."""
    argv = ["ssh"]
    if auth.ssh_config_file is not None:
        argv += ["-F", str(auth.ssh_config_file)]
    if auth.ssh_key_file is not None:
        argv += ["-i", str(auth.ssh_key_file), "-o", "IdentitiesOnly=yes"]
    if auth.strict_host_key_checking:
        if auth.known_hosts_file is not None:
            argv += ["-o", f"UserKnownHostsFile={auth.known_hosts_file}"]
        argv += ["-o", "StrictHostKeyChecking=yes"]
    else:
        argv += ["-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no"]
    argv += [
        "-o",
        "PasswordAuthentication=no",
        "-o",
        "KbdInteractiveAuthentication=no",
        "-o",
        f"ConnectTimeout={auth.ssh_connect_timeout}",
    ]
    if not with_passphrase:
        argv += ["-o", "BatchMode=yes"]  # BatchMode would also silence the passphrase askpass
    return shlex.join(argv)


@contextmanager
def auth_session(
    auth: GitAuth,
    *,
    ssh: bool,
    url_username: str | None = None,
    url_password: str | None = None,
) -> Iterator[AuthSession]:
    """Set up the askpass helper (in a private temporary folder, removed afterwards) and the variables.

    ``url_username``/``url_password`` are credentials that were found in the URL itself; explicit
    options win over them.
    """
    with tempfile.TemporaryDirectory(prefix="reconciler-askpass-") as folder:
        os.chmod(folder, stat.S_IRWXU)
        script = Path(folder) / "askpass.sh"
        script.write_text(_ASKPASS_SCRIPT, encoding="utf-8")
        script.chmod(stat.S_IRWXU)
        env: dict[str, str] = {}
        secrets: list[str] = []
        if ssh:
            passphrase = read_secret(file=auth.ssh_passphrase_file, variable=None, what="ssh key passphrase")
            env["GIT_SSH_COMMAND"] = ssh_command(auth, with_passphrase=passphrase is not None)
            env["GIT_SSH_VARIANT"] = "ssh"
            if passphrase is not None:
                secrets.append(passphrase)
                env.update(
                    {
                        PASSPHRASE_VARIABLE: passphrase,
                        "SSH_ASKPASS": str(script),
                        "SSH_ASKPASS_REQUIRE": "force",
                        "DISPLAY": os.environ.get("DISPLAY", ":0"),
                    }
                )
        else:
            token = read_secret(file=auth.token_file, variable=auth.token_env, what="token")
            password = token or read_secret(
                file=auth.password_file, variable=auth.password_env, what="password"
            )
            if password is None:
                password = url_password
            username = auth.username or url_username
            if password is not None and username is None:
                username = DEFAULT_TOKEN_USERNAME
            if username is not None:
                env[USERNAME_VARIABLE] = username
            if password is not None:
                env[PASSWORD_VARIABLE] = password
                secrets.append(password)
            if url_username is not None and url_username == username and password is None:
                # ``https://TOKEN@host/repo``: the user name is the credential; the password is empty.
                env[PASSWORD_VARIABLE] = ""
                secrets.append(url_username)
            elif url_username is not None and url_username != username:
                secrets.append(url_username)  # possibly a token given as the URL's user name
        if USERNAME_VARIABLE in env or PASSWORD_VARIABLE in env:
            env["GIT_ASKPASS"] = str(script)
        yield AuthSession(env=env, secrets=tuple(secrets))
