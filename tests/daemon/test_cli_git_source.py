"""``diff`` and ``sync`` with a git repository as SOURCE: file://, git daemon and https with a token.

In-process CLI runs against real git servers and the emulator on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.emulator import RunningEmulator
from tests.apply.helpers import actions, api_yaml, context_yaml, set_token_env
from tests.daemon.support import apis
from tests.source.gitservers import GitDaemon, HttpGitServer, Upstream

pytestmark = pytest.mark.timeout(60)

TOKEN = "tok-5e1f-SECRET-daemon"


@pytest.fixture(autouse=True)
def apim_token(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator) -> None:
    set_token_env(monkeypatch, emulator.base_url)
    for name in ("RECONCILER_REF", "RECONCILER_PATH", "RECONCILER_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any] | None, str]:
    code = main([*args, "--output", "json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


def seed(upstream: Upstream, emulator: RunningEmulator, prefix: str = "") -> str:
    return upstream.commit(
        {
            f"{prefix}context.yaml": context_yaml(emulator.base_url),
            f"{prefix}alpha.yaml": api_yaml("alpha"),
            "README.md": "not a manifest\n",
        },
        "first",
    )


def test_sync_from_a_file_url_records_the_commit_and_shows_repository_paths(
    capsys: pytest.CaptureFixture[str], upstream: Upstream, emulator: RunningEmulator, cache_dir: Path
) -> None:
    first = seed(upstream, emulator, prefix="apim/")
    url = f"file://{upstream.bare}"
    code, report, err = run(capsys, "sync", url, "--path", "apim", "--cache-dir", str(cache_dir))
    assert code == 0, err
    assert report is not None and report["commit"] == first
    assert actions(report) == {"alpha": "create"}
    assert apis(emulator) == {"alpha": "An API"}
    # the ownership record written with the API names the commit it came from
    assert f'"commit":"{first}"' in json.dumps(emulator.dump_state(), separators=(",", ":")).replace("\\", "")

    upstream.commit({"apim/alpha.yaml": api_yaml("alpha", description="Better")})
    code, report, err = run(
        capsys, "diff", url, "--path", "apim", "--cache-dir", str(cache_dir), "--exit-code"
    )
    assert code == 2, err
    assert report is not None
    (update,) = [a for a in report["actions"] if a["action"] == "update"]
    # named as in the repository, not by the cache folder's hash
    assert update["position"] == "apim/alpha.yaml:1:1"
    assert update["changes"][0]["position"] == "apim/alpha.yaml:9:3"
    assert str(cache_dir) not in json.dumps(report)


def test_problems_in_a_git_source_name_repository_files(
    capsys: pytest.CaptureFixture[str], upstream: Upstream, emulator: RunningEmulator, cache_dir: Path
) -> None:
    seed(upstream, emulator)
    upstream.commit({"broken.yaml": api_yaml("broken").replace("type: PROXY", "type: SOAP")})
    code, report, _ = run(capsys, "sync", f"file://{upstream.bare}", "--cache-dir", str(cache_dir))
    assert code == 1 and report is not None
    (problem,) = [p for p in report["problems"] if p["severity"] == "error"]
    assert (problem["file"], problem["line"]) == ("broken.yaml", 11)
    assert apis(emulator) == {}  # a repository with errors applies nothing


def test_sync_from_git_daemon_at_a_ref(
    capsys: pytest.CaptureFixture[str],
    upstream: Upstream,
    git_daemon: GitDaemon,
    emulator: RunningEmulator,
    cache_dir: Path,
) -> None:
    seed(upstream, emulator)
    release = upstream.commit({"beta.yaml": api_yaml("beta")}, branch="release")
    url = git_daemon.url(upstream.relative)
    code, report, err = run(capsys, "sync", url, "--ref", "release", "--cache-dir", str(cache_dir))
    assert code == 0, err
    assert report is not None and report["commit"] == release
    assert sorted(apis(emulator)) == ["alpha", "beta"]


def test_sync_over_https_with_a_token_file(
    capsys: pytest.CaptureFixture[str],
    upstream: Upstream,
    emulator: RunningEmulator,
    cache_dir: Path,
    tmp_path: Path,
) -> None:
    first = seed(upstream, emulator)
    server = HttpGitServer(upstream.base, username="deployer", token=TOKEN)
    server.start()
    try:
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN + "\n")
        url = server.url(upstream.relative)
        common = ["--cache-dir", str(cache_dir), "--git-username", "deployer"]
        code, report, err = run(capsys, "sync", url, *common, "--git-token-file", str(token_file))
        assert code == 0, err
        assert report is not None and report["commit"] == first
        assert apis(emulator) == {"alpha": "An API"}

        # a wrong token: a clear error, exit 1, and the token in no output
        token_file.write_text("wrong-token-value\n")
        upstream.commit({"beta.yaml": api_yaml("beta")})
        code, report, err = run(capsys, "sync", url, *common, "--git-token-file", str(token_file))
        assert code == 1 and report is None
        assert err.splitlines()[-1].startswith("apim-reconciler: error: ") and "wrong-token-value" not in err
        assert "authentication" in err.lower() or "credentials" in err.lower(), err
        assert "beta" not in apis(emulator)
    finally:
        server.stop()


def test_unreachable_repository_is_a_clear_error(capsys: pytest.CaptureFixture[str], cache_dir: Path) -> None:
    code, report, err = run(
        capsys, "diff", "git://127.0.0.1:9/nothing.git", "--cache-dir", str(cache_dir), "--git-timeout", "10"
    )
    assert code == 1 and report is None
    assert err.splitlines()[-1].startswith("apim-reconciler: error: ") and "Traceback" not in err
    assert "unable to connect" in err.splitlines()[-1]


def test_bad_git_flag_combinations_are_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["diff", str(tmp_path), "--git-token-env", "X", "--git-password-file", str(tmp_path / "p")])
    assert code == 64
    assert "token or a password" in capsys.readouterr().err
