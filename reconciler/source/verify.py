"""Signed commits: a snapshot is taken only of a commit (or tag) signed by a key we were given.

``--verify-commits`` is Flux's ``verify``: git's own verification (``git verify-commit``, and
``git verify-tag`` for an annotated tag) decides, with the trust list passed to each command and
nothing else:

- SSH signatures are checked against an allowed-signers file (git's ``gpg.ssh.allowedSignersFile``,
  lines ``<principal> <public key>``), with ``gpg.minTrustLevel=fully`` so that a good signature by
  a key *not* in the file (git's "No principal matched") is refused, whatever the git version;
- OpenPGP signatures against a keyring file (``gpg --export [--armor]`` of the allowed public
  keys), imported into a private ``GNUPGHOME`` that holds those keys only, each marked trusted
  there: the keyring *is* the trust list, gpg's web of trust is not consulted (as Flux does).

The user's global and system git configuration are never read by these commands
(``GIT_CONFIG_GLOBAL=/dev/null``, ``GIT_CONFIG_NOSYSTEM=1``), nor the user's ``~/.gnupg``: a key
trusted on the machine but not given to us proves nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reconciler.source.errors import SourceError
from reconciler.source.gitcmd import GitRunner

_ISOLATED_CONFIG = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


class UnverifiedCommitError(SourceError):
    """The commit (or tag) is unsigned, or signed by a key that is not allowed, or tampered with.

    Not retryable: the same commit stays unverified until someone pushes a signed one.
    """

    reason = "VerificationFailed"


@dataclass(frozen=True, slots=True)
class TrustedKeys:
    """Where the allowed keys are: an SSH allowed-signers file, an OpenPGP keyring file, or both."""

    allowed_signers: Path | None = None
    gpg_keyring: Path | None = None

    def __post_init__(self) -> None:
        if self.allowed_signers is None and self.gpg_keyring is None:
            raise ValueError("--verify-commits needs --allowed-signers FILE or --gpg-keyring FILE")
        for flag, path in (("--allowed-signers", self.allowed_signers), ("--gpg-keyring", self.gpg_keyring)):
            if path is not None and not path.is_file():
                raise ValueError(f"{flag} {path}: no such file")


@dataclass(frozen=True, slots=True)
class Verified:
    """A commit (or tag) that passed: what was checked, and git's line naming the signer."""

    commit: str
    object_type: str
    signer: str


@dataclass(frozen=True, slots=True)
class CommitVerifier:
    """Runs git's verification of one object in a repository, with only the given keys trusted.

    Each verification builds its own ``GNUPGHOME`` and removes it afterwards: a new commit is
    verified once (the source keeps its snapshot), so importing a few keys each time costs little,
    and nothing is left behind in a temporary folder.
    """

    keys: TrustedKeys
    timeout: float = 60.0

    def verify(self, runner: GitRunner, repo: Path, ref: str, commit: str) -> Verified:
        """Verify ``ref`` (a tag object is checked as a tag, anything else as its commit).

        Raises `UnverifiedCommitError` with git's reason; returns what was verified.
        """
        kind = runner.run(["cat-file", "-t", ref], timeout=self.timeout, cwd=repo, what="git cat-file")
        object_type = kind.stdout.strip() if kind.ok else "commit"
        command = "verify-tag" if object_type == "tag" else "verify-commit"
        target = ref if object_type == "tag" else commit
        with tempfile.TemporaryDirectory(prefix="reconciler-gnupg-") as home:
            if self.keys.gpg_keyring is not None:
                _import_keys(Path(home), self.keys.gpg_keyring, self.timeout)
            result = runner.run(
                [*self._config(), command, "--", target],
                timeout=self.timeout,
                cwd=repo,
                extra_env={**_ISOLATED_CONFIG, "GNUPGHOME": home},
                what=f"git {command}",
            )
        detail = _signature_lines(result.stderr)
        what = f"{'tag' if object_type == 'tag' else 'commit'} {commit[:12]}"
        if result.ok:
            good = [line.strip() for line in result.stderr.splitlines() if "Good " in line]
            return Verified(commit=commit, object_type=object_type, signer=good[-1] if good else detail)
        if not detail:
            raise UnverifiedCommitError(
                f"{what} is not signed; --verify-commits accepts only commits signed by an allowed key"
            )
        raise UnverifiedCommitError(f"{what} is not signed by an allowed key: {detail}")

    def _config(self) -> list[str]:
        signers = str(self.keys.allowed_signers) if self.keys.allowed_signers else "/dev/null"
        # fully: an SSH key must be in the allowed-signers file (a principal matched), an OpenPGP
        # key in the private keyring (whose keys are ultimately trusted there, see _import_keys).
        return ["-c", f"gpg.ssh.allowedSignersFile={signers}", "-c", "gpg.minTrustLevel=fully"]


def _import_keys(home: Path, keyring: Path, timeout: float) -> None:
    import subprocess  # gpg is run with an argv list, never a shell  # nosec B404

    gpg = shutil.which("gpg")
    if gpg is None:
        raise SourceError("--gpg-keyring needs gpg, which is not installed")
    done = subprocess.run(  # argv built by us, no shell  # nosec B603
        [gpg, "--batch", "--quiet", "--no-tty", "--homedir", str(home), "--import", str(keyring)],
        capture_output=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    listed = subprocess.run(  # argv built by us, no shell  # nosec B603
        [gpg, "--batch", "--no-tty", "--homedir", str(home), "--with-colons", "--list-keys"],
        capture_output=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    fingerprints = _primary_fingerprints(listed.stdout.decode("utf-8", "replace"))
    if done.returncode != 0 or not fingerprints:
        text = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UnverifiedCommitError(
            f"--gpg-keyring {keyring}: no key could be imported ({text[-1] if text else 'no public key in it'})"
        )
    # The given keys are the trust list: ultimate trust in this private home, nowhere else.
    trusted = subprocess.run(  # argv built by us, no shell  # nosec B603
        [gpg, "--batch", "--quiet", "--no-tty", "--homedir", str(home), "--import-ownertrust"],
        input="".join(f"{fpr}:6:\n" for fpr in fingerprints).encode(),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if trusted.returncode != 0:
        raise UnverifiedCommitError(f"--gpg-keyring {keyring}: its keys could not be marked as trusted")


def _primary_fingerprints(colons: str) -> list[str]:
    """The fingerprint of each primary key in ``gpg --with-colons`` output (the fpr after a pub)."""
    found: list[str] = []
    after_pub = False
    for line in colons.splitlines():
        fields = line.split(":")
        if fields[0] == "pub":
            after_pub = True
        elif fields[0] == "fpr" and after_pub and len(fields) > 9:
            found.append(fields[9])
            after_pub = False
        elif fields[0] == "sub":
            after_pub = False
    return found


def _signature_lines(stderr: str, limit: int = 300) -> str:
    """git's (ssh-keygen's or gpg's) verdict, without the noise of the trust database."""
    keep = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip() and not line.startswith(("gpg: checking the trustdb", "gpg: marginals", "gpg: depth"))
    ]
    text = "; ".join(keep[-4:])
    return text if len(text) <= limit else text[:limit] + "..."
