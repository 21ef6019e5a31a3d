"""Real signing keys for the signed-commit tests: ssh-keygen (SSH) and gpg (OpenPGP) keys made by
the test, and an `Upstream` work clone set to sign its commits and tags with one of them."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.source.gitservers import Upstream, git


@dataclass(frozen=True)
class SshKey:
    private: Path

    @staticmethod
    def make(folder: Path, name: str) -> SshKey:
        folder.mkdir(parents=True, exist_ok=True)
        private = folder / name
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(private)], check=True
        )
        return SshKey(private)

    @property
    def public(self) -> str:
        return Path(f"{self.private}.pub").read_text().strip()

    def sign_with(self, upstream: Upstream) -> None:
        for key, value in (("gpg.format", "ssh"), ("user.signingkey", str(self.private))):
            git("config", key, value, cwd=upstream.work)
        _sign_everything(upstream)


def allowed_signers(path: Path, *keys: SshKey) -> Path:
    path.write_text("".join(f"ci@example.invalid {key.public}\n" for key in keys))
    return path


@dataclass(frozen=True)
class GpgKey:
    home: Path
    fingerprint: str

    @staticmethod
    def make(name: str) -> GpgKey:
        # gpg's agent socket path must be short: a home under /tmp, removed by `remove`.
        home = Path(subprocess.check_output(["mktemp", "-d", "/tmp/gpgtest-XXXXXX"], text=True).strip())
        env = {**os.environ, "GNUPGHOME": str(home)}
        subprocess.run(
            ["gpg", "--batch", "--quiet", "--passphrase", "", "--quick-gen-key", f"{name} <{name}@example.invalid>",
             "ed25519", "sign", "never"],
            check=True, env=env, capture_output=True,
        )  # fmt: skip
        colons = subprocess.check_output(["gpg", "--with-colons", "--list-keys"], env=env, text=True)
        fingerprint = next(line.split(":")[9] for line in colons.splitlines() if line.startswith("fpr"))
        return GpgKey(home, fingerprint)

    def export(self, path: Path) -> Path:
        env = {**os.environ, "GNUPGHOME": str(self.home)}
        path.write_bytes(subprocess.check_output(["gpg", "--export", "--armor", self.fingerprint], env=env))
        return path

    def sign_with(self, upstream: Upstream) -> None:
        """Sign with this key; the caller puts ``GNUPGHOME`` in the environment (`home`), which the
        code under test must ignore: a key the machine trusts is not a key we were given."""
        git("config", "gpg.format", "openpgp", cwd=upstream.work)
        git("config", "user.signingkey", self.fingerprint, cwd=upstream.work)
        _sign_everything(upstream)

    def remove(self) -> None:
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "all"], check=False)
        shutil.rmtree(self.home, ignore_errors=True)


def _sign_everything(upstream: Upstream) -> None:
    git("config", "commit.gpgsign", "true", cwd=upstream.work)
    git("config", "tag.gpgsign", "true", cwd=upstream.work)


def stop_signing(upstream: Upstream) -> None:
    git("config", "commit.gpgsign", "false", cwd=upstream.work)
    git("config", "tag.gpgsign", "false", cwd=upstream.work)


def tamper(upstream: Upstream) -> str:
    """Rewrite HEAD's message but keep its signature (what an attacker with push access can do), push."""
    raw = git("cat-file", "commit", "HEAD", cwd=upstream.work) + "\n"
    head, _, message = raw.partition("\n\n")
    forged = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
        input=f"{head}\n\n{message.replace(message.strip(), 'harmless, honestly')}",
        cwd=upstream.work, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    git("update-ref", "HEAD", forged, cwd=upstream.work)
    git("push", "--quiet", "--force", "origin", "HEAD:refs/heads/main", cwd=upstream.work)
    return forged
