"""--verify-commits end to end: `sync` and the daemon apply a commit signed by an allowed key and
refuse any other (nothing applied, nothing pruned), over git:// on 127.0.0.1, against the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import api_yaml, context_yaml
from tests.daemon.conftest import StartDaemon
from tests.daemon.support import apis, run_cli, wait_for
from tests.source.gitservers import GitDaemon, Upstream
from tests.source.signing import SshKey, allowed_signers, stop_signing

pytestmark = pytest.mark.timeout(90)


def test_sync_applies_a_signed_commit_and_refuses_an_unsigned_one_with_nothing_pruned(
    upstream: Upstream, git_daemon: GitDaemon, emulator: RunningEmulator, tmp_path: Path
) -> None:
    key = SshKey.make(tmp_path / "keys", "ci")
    signers = allowed_signers(tmp_path / "allowed_signers", key)
    key.sign_with(upstream)
    upstream.commit({"context.yaml": context_yaml(emulator.base_url), "alpha.yaml": api_yaml("alpha")}, "one")
    args = (git_daemon.url(upstream.relative), "--cache-dir", tmp_path / "cache", "--verify-commits")
    applied = run_cli("sync", *args, "--allowed-signers", signers)
    assert applied.returncode == 0, applied.stderr
    assert apis(emulator) == {"alpha": "An API"}

    stop_signing(upstream)
    unsigned = upstream.commit({"alpha.yaml": None, "beta.yaml": api_yaml("beta")}, "unsigned")
    for command in ("sync", "diff"):
        refused = run_cli(command, *args, "--allowed-signers", signers)
        assert refused.returncode == 1, refused.stderr
        assert (
            f"apim-reconciler: error: commit {unsigned[:12]} is not signed; --verify-commits accepts only "
            "commits signed by an allowed key"
        ) in refused.stderr
        assert refused.stdout == ""  # no plan is made from an unverified commit
    assert apis(emulator) == {"alpha": "An API"}  # not pruned, beta not created

    # the same commit without the flag is taken: the refusal above was the verification's
    taken = run_cli("sync", *args[:-1], "--force-prune")
    assert taken.returncode == 0, taken.stdout
    assert sorted(apis(emulator)) == ["beta"]


def test_verify_commits_usage_errors(tmp_path: Path, emulator: RunningEmulator) -> None:
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "context.yaml").write_text(context_yaml(emulator.base_url))
    signers = tmp_path / "allowed_signers"
    signers.write_text("")
    for argv, message in (
        (("--verify-commits", "--allowed-signers", signers), "--verify-commits needs a git source: "),
        (("--verify-commits",), "--verify-commits needs --allowed-signers FILE or --gpg-keyring FILE"),
        (("--allowed-signers", signers), "take effect only with --verify-commits"),
        (
            ("--verify-commits", "--gpg-keyring", tmp_path / "nope"),
            f"--gpg-keyring {tmp_path / 'nope'}: no such",
        ),
    ):
        result = run_cli("sync", folder, *argv)
        assert result.returncode == 64, (argv, result.stderr)
        assert message in result.stderr
    assert apis(emulator) == {}


def test_the_daemon_refuses_an_unverified_commit_and_says_why(
    start_daemon: StartDaemon,
    upstream: Upstream,
    git_daemon: GitDaemon,
    emulator: RunningEmulator,
    tmp_path: Path,
) -> None:
    allowed, stranger = SshKey.make(tmp_path / "keys", "ci"), SshKey.make(tmp_path / "keys", "stranger")
    allowed.sign_with(upstream)
    first = upstream.commit(
        {"context.yaml": context_yaml(emulator.base_url), "alpha.yaml": api_yaml("alpha")}
    )
    daemon = start_daemon(
        git_daemon.url(upstream.relative),
        "--interval", "0.3", "--cache-dir", tmp_path / "cache", "--verify-commits",
        "--allowed-signers", allowed_signers(tmp_path / "allowed_signers", allowed),
    )  # fmt: skip
    wait_for(lambda: daemon.status()["lastAppliedRevision"] == first, "the signed commit to be applied")

    stranger.sign_with(upstream)
    strange = upstream.commit({"alpha.yaml": None}, "signed by a stranger")
    wait_for(lambda: daemon.status()["sourceError"], "the refusal to be reported")
    status = daemon.status()
    ready = {c["type"]: c for c in status["conditions"]}["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "VerificationFailed")
    assert ready["message"].startswith(f"commit {strange[:12]} is not signed by an allowed key: ")
    assert status["sourceError"]["type"] == "UnverifiedCommitError"
    assert status["sourceError"]["retryable"] is False
    readyz = daemon.client.get("/readyz")
    assert readyz.status_code == 503 and "VerificationFailed" in readyz.json()["reason"]
    assert status["lastAppliedRevision"] == first
    assert apis(emulator) == {"alpha": "An API"}  # the prune in that commit did not happen

    allowed.sign_with(upstream)
    fixed = upstream.commit({"alpha.yaml": api_yaml("alpha"), "beta.yaml": api_yaml("beta")}, "signed again")
    wait_for(lambda: daemon.status()["lastAppliedRevision"] == fixed, "the next signed commit")
    assert sorted(apis(emulator)) == ["alpha", "beta"]
    assert daemon.client.get("/readyz").status_code == 200
