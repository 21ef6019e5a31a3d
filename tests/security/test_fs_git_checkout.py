"""Symlinks committed to a git repository may not reach the checkout's own `.git`, nor another clone.

The checkout lives in `--cache-dir/<hash>/` with its `.git/` inside (git's config, hooks, refs), and
next to the clones of other repositories. A committed symlink `apis.yaml -> .git/config`, a `--path`
that is a committed link to `.git`, or a link `../<other clone>/...` must be refused at that file
(or as a bad sub-folder): exit 1, nothing applied, nothing deleted. Real git, real emulator.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from reconciler.source import GitSource
from tests.apply.helpers import TOKEN_ENV, api_yaml, context_yaml
from tests.hostile.runner import sync_baseline
from tests.source.gitservers import Upstream, git

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def apim() -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig()) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def baseline(apim: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> str:
    return sync_baseline(apim, tmp_path_factory.mktemp("baseline") / "repo")


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "emulator-token")
    for name in ("RECONCILER_REF", "RECONCILER_PATH", "RECONCILER_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)


def commit_with_links(upstream: Upstream, base_url: str, prefix: str, links: dict[str, str]) -> None:
    """A commit of a context, a valid API and the given symlinks (name -> target, as committed)."""
    upstream.commit(
        {f"{prefix}context.yaml": context_yaml(base_url), f"{prefix}valid.yaml": api_yaml("valid")}
    )
    for name, target in links.items():
        link = upstream.work / name
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, link)
    git("add", "--all", cwd=upstream.work)
    git("commit", "--quiet", "-m", "links", cwd=upstream.work)
    git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=upstream.work)


def sync(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any] | None, str]:
    code = main(["sync", *args, "--output", "json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


def errors_of(report: dict[str, Any] | None) -> list[tuple[str, int, str]]:
    assert report is not None
    return [(p["file"], p["line"], p["message"]) for p in report["problems"] if p["severity"] == "error"]


@pytest.mark.parametrize(
    ("prefix", "link", "target", "expected"),
    [
        ("", "apis.yaml", ".git/config", "symlink points into .git, a hidden folder"),
        ("", "deep/er/head.yaml", "../../.git/HEAD", "symlink points into .git, a hidden folder"),
        ("apim/", "apim/config.yaml", "../.git/config", "symlink points outside the repository"),
    ],
    ids=["to-git-config", "deep-to-git-head", "from-sub-path-to-git-config"],
)
def test_a_committed_link_into_the_checkouts_git_is_refused(
    prefix: str,
    link: str,
    target: str,
    expected: str,
    apim: RunningEmulator,
    baseline: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    apim.load_state(json.loads(baseline))
    upstream = Upstream(tmp_path / "srv")
    commit_with_links(upstream, apim.base_url, prefix, {link: target})
    sub_path = ["--path", prefix.rstrip("/")] if prefix else []

    code, report, stderr = sync(
        capsys, f"file://{upstream.bare}", "--cache-dir", str(tmp_path / "cache"), *sub_path
    )

    assert code == 1, stderr
    errors = errors_of(report)
    assert [(f, line) for f, line, m in errors if m.startswith(expected)] == [(link, 1)], errors
    assert str(tmp_path / "cache") not in json.dumps(report)  # named as in the repository
    assert json.dumps(apim.dump_state(), sort_keys=True) == baseline  # `doomed` is still there


def test_a_link_to_another_clone_in_the_cache_is_refused(
    apim: RunningEmulator, baseline: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another repository's clone sits beside ours in the cache: a link `../<its folder>/...` (the
    folder name is a hash anyone can compute from the URL) must not read it."""
    apim.load_state(json.loads(baseline))
    cache = tmp_path / "cache"
    other = Upstream(tmp_path / "srv-other", name="other")
    other.commit({"secret.yaml": api_yaml("smuggled", path="/smuggled")})
    other_checkout = GitSource(f"file://{other.bare}", cache_dir=cache).snapshot().root
    capsys.readouterr()  # its log lines
    upstream = Upstream(tmp_path / "srv")
    commit_with_links(upstream, apim.base_url, "", {"smuggled.yaml": f"../{other_checkout.name}/secret.yaml"})

    code, report, stderr = sync(capsys, f"file://{upstream.bare}", "--cache-dir", str(cache))

    assert code == 1, stderr
    assert [(f, m.split(" (")[0]) for f, _, m in errors_of(report)] == [
        ("smuggled.yaml", "symlink points outside the repository")
    ]
    assert json.dumps(apim.dump_state(), sort_keys=True) == baseline


@pytest.mark.parametrize("source_kind", ["git", "folder"])
def test_a_sub_path_that_is_a_committed_link_into_a_hidden_folder_is_refused(
    source_kind: str, apim: RunningEmulator, baseline: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--path apim` where the repository made `apim` a link to `.github` (holding a valid manifest,
    which the loader never reads) or to `.git`: the folder it names is refused, not loaded."""
    apim.load_state(json.loads(baseline))
    upstream = Upstream(tmp_path / "srv")
    upstream.commit(
        {
            ".github/context.yaml": context_yaml(apim.base_url),
            ".github/smuggled.yaml": api_yaml("smuggled", path="/smuggled"),
        }
    )
    commit_with_links(upstream, apim.base_url, "real/", {"apim": ".github"})
    if source_kind == "git":
        spec = [f"file://{upstream.bare}", "--cache-dir", str(tmp_path / "cache")]
    else:
        spec = [str(upstream.work)]

    code, report, stderr = sync(capsys, *spec, "--path", "apim")

    assert code == 1
    assert "path 'apim' leads into the hidden folder '.github' (through a symlink)" in stderr
    assert report is None  # refused before anything was loaded or planned
    assert json.dumps(apim.dump_state(), sort_keys=True) == baseline


def test_a_sub_path_through_git_is_refused_even_when_typed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream = Upstream(tmp_path / "srv")
    upstream.commit({"a.yaml": "x: 1\n"})
    assert main(["sync", f"file://{upstream.bare}", "--path", ".git/refs"]) == 64
    assert "the sub-folder cannot be inside .git" in capsys.readouterr().err
