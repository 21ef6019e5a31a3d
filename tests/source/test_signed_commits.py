"""--verify-commits: git's own verification of real SSH and OpenPGP signatures made by the test,
over git http-backend on 127.0.0.1; an unverified commit's files never reach the checkout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.source import (
    Backoff,
    CommitVerifier,
    GitAuth,
    GitSource,
    TrustedKeys,
    UnverifiedCommitError,
)
from tests.source.conftest import TOKEN, USERNAME
from tests.source.gitservers import HttpGitServer, Upstream, git
from tests.source.signing import GpgKey, SshKey, allowed_signers, stop_signing, tamper

pytestmark = pytest.mark.timeout(60)

FAST = Backoff(attempts=1, initial=0.0)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[SshKey, SshKey]:
    """An allowed key and a key nobody allowed."""
    return SshKey.make(tmp_path / "keys", "allowed"), SshKey.make(tmp_path / "keys", "stranger")


@pytest.fixture
def gpg_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[GpgKey]:
    key = GpgKey.make("signer")
    monkeypatch.setenv("GNUPGHOME", str(key.home))  # the machine's own keyring trusts it: irrelevant
    yield key
    key.remove()


def source(
    server: HttpGitServer, upstream: Upstream, tmp_path: Path, keys: TrustedKeys, **kw: str
) -> GitSource:
    tmp_path.mkdir(parents=True, exist_ok=True)
    token = tmp_path / "token"
    token.write_text(TOKEN)
    return GitSource(
        server.url(upstream.relative),
        kw.get("ref"),
        cache_dir=tmp_path / "cache",
        auth=GitAuth(username=USERNAME, token_file=token),
        backoff=FAST,
        verifier=CommitVerifier(keys),
    )


def test_ssh_signed_by_an_allowed_key_is_taken_and_every_other_commit_refused(
    http_server: HttpGitServer, upstream: Upstream, tmp_path: Path, keys: tuple[SshKey, SshKey]
) -> None:
    allowed, stranger = keys
    trusted = TrustedKeys(allowed_signers=allowed_signers(tmp_path / "allowed_signers", allowed))
    allowed.sign_with(upstream)
    good = upstream.commit({"apis/good.yaml": "good\n"}, "signed")
    src = source(http_server, upstream, tmp_path, trusted)
    snap = src.snapshot()
    assert snap.commit == good and (snap.root / "apis/good.yaml").exists()

    stop_signing(upstream)
    unsigned = upstream.commit({"apis/evil.yaml": "evil\n"}, "unsigned")
    with pytest.raises(UnverifiedCommitError) as refused:
        src.snapshot()
    assert refused.value.message == (
        f"commit {unsigned[:12]} is not signed; --verify-commits accepts only commits signed by an allowed key"
    )
    assert refused.value.reason == "VerificationFailed" and not refused.value.retryable
    assert not (snap.root / "apis/evil.yaml").exists()  # the checkout was not moved
    assert src.last_good is snap

    stranger.sign_with(upstream)
    strange = upstream.commit({}, "signed by a stranger")
    with pytest.raises(UnverifiedCommitError) as refused:
        src.snapshot()
    assert refused.value.message.startswith(f"commit {strange[:12]} is not signed by an allowed key: ")
    assert "No principal matched" in refused.value.message

    allowed.sign_with(upstream)
    upstream.commit({"apis/evil.yaml": None}, "signed again")
    forged = tamper(upstream)  # the allowed key's signature over other content
    with pytest.raises(UnverifiedCommitError) as refused:
        src.snapshot()
    assert refused.value.message.startswith(f"commit {forged[:12]} is not signed by an allowed key: ")
    assert refused.value.message.endswith("Signature verification failed: incorrect signature")
    assert git("rev-parse", "HEAD", cwd=src.checkout_dir) == good


def test_openpgp_keyring_is_the_trust_list_and_the_machines_own_keyring_is_not(
    http_server: HttpGitServer,
    upstream: Upstream,
    tmp_path: Path,
    gpg_key: GpgKey,
    keys: tuple[SshKey, SshKey],
) -> None:
    gpg_key.sign_with(upstream)
    signed = upstream.commit({"apis/a.yaml": "a\n"}, "gpg signed")
    with_keyring = TrustedKeys(gpg_keyring=gpg_key.export(tmp_path / "keys.asc"))
    assert source(http_server, upstream, tmp_path, with_keyring).snapshot().commit == signed

    # The same commit with only an SSH list: the user's GNUPGHOME (which holds and trusts the key) is
    # not consulted, so the signature cannot be checked and the commit is refused.
    ssh_only = TrustedKeys(allowed_signers=allowed_signers(tmp_path / "allowed_signers", keys[0]))
    with pytest.raises(UnverifiedCommitError, match=r"not signed by an allowed key: .*No public key"):
        source(http_server, upstream, tmp_path / "other", ssh_only).snapshot()


@pytest.mark.parametrize("signed", [True, False])
def test_an_annotated_tag_is_verified_as_a_tag(
    signed: bool, http_server: HttpGitServer, upstream: Upstream, tmp_path: Path, keys: tuple[SshKey, SshKey]
) -> None:
    allowed = keys[0]
    allowed.sign_with(upstream)
    upstream.commit({}, "signed commit")  # the commit is signed either way: the tag is what is checked
    if not signed:
        git("config", "tag.gpgsign", "false", cwd=upstream.work)
    commit = upstream.tag("v1", annotated=True)
    trusted = TrustedKeys(allowed_signers=allowed_signers(tmp_path / "allowed_signers", allowed))
    src = source(http_server, upstream, tmp_path, trusted, ref="v1")
    if signed:
        assert src.snapshot().commit == commit
    else:
        with pytest.raises(UnverifiedCommitError, match=rf"^tag {commit[:12]} is not signed"):
            src.snapshot()


def test_a_cache_left_by_a_run_without_verification_is_verified_again(
    upstream: Upstream, tmp_path: Path, keys: tuple[SshKey, SshKey]
) -> None:
    unsigned = upstream.commit({"apis/x.yaml": "x\n"}, "unsigned")
    url = f"file://{upstream.bare}"
    GitSource(url, cache_dir=tmp_path / "cache", backoff=FAST).snapshot()  # no --verify-commits
    trusted = TrustedKeys(allowed_signers=allowed_signers(tmp_path / "allowed_signers", keys[0]))
    verifying = GitSource(url, cache_dir=tmp_path / "cache", backoff=FAST, verifier=CommitVerifier(trusted))
    with pytest.raises(UnverifiedCommitError, match=rf"commit {unsigned[:12]} is not signed"):
        verifying.snapshot()


def test_trusted_keys_need_a_key_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs --allowed-signers FILE or --gpg-keyring FILE"):
        TrustedKeys()
    with pytest.raises(ValueError, match=r"--allowed-signers .*missing: no such file"):
        TrustedKeys(allowed_signers=tmp_path / "missing")
