"""Flags that name things are checked before anything runs: exit 64 with the flag's usage.

Issue 14: an empty `--owner` was accepted (an ownership record with no owner matches what?). Its
siblings: `--default-namespace` and `export --namespace` become part of every HRID, so they must be
Kubernetes namespaces like `metadata.namespace`; `--max-file-size` 0 or negative refused every file
with a message about a "0-byte limit". The same values through RECONCILER_* variables are refused
the same way (a value from the environment used to end in a traceback for `--prune-threshold`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from tests.apply.helpers import Repo, api_yaml

OWNER_COMMANDS = [
    ["diff", "{repo}"],
    ["sync", "{repo}"],
    ["run", "{repo}", "--once"],
    ["export", "--context", "{repo}/context.yaml", "--out", "{out}"],
]
BAD_OWNERS = ["", " ", "-leading-dash", "has space", "new\nline", "slash/owner", "x" * 64, "émile"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A valid repository whose context points at a closed port: nothing may get that far."""
    repository = Repo(tmp_path / "repo", "http://127.0.0.1:9")
    repository.write("api.yaml", api_yaml("api"))
    return repository.root


def argv(template: list[str], repo: Path, tmp_path: Path) -> list[str]:
    return [part.format(repo=repo, out=tmp_path / "out") for part in template]


@pytest.mark.parametrize("command", OWNER_COMMANDS, ids=[c[0] for c in OWNER_COMMANDS])
@pytest.mark.parametrize("owner", BAD_OWNERS, ids=[repr(o)[:12] for o in BAD_OWNERS])
def test_a_bad_owner_flag_is_a_usage_error(
    command: list[str], owner: str, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv(command, repo, tmp_path), f"--owner={owner}"]) == 64
    err = capsys.readouterr().err
    assert err.startswith("usage: apim-reconciler " + command[0])
    assert (
        "argument --owner: " in err and "is not an owner id: 1 to 63 letters, digits, '.', '_' and '-'" in err
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("owner", ["", "two words"])
def test_a_bad_owner_from_the_environment_is_a_usage_error(
    owner: str, repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_OWNER", owner)
    assert main(["sync", str(repo)]) == 64
    err = capsys.readouterr().err
    assert f"RECONCILER_OWNER={owner!r} is not a valid value for --owner: {owner!r} is not an owner id" in err


@pytest.mark.parametrize("owner", ["apim-reconciler", "team.platform_2", "A", "x" * 63])
def test_good_owner_ids_pass(
    owner: str, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # validate has no --owner; the context's closed port makes diff fail after the flags were taken
    assert main(["diff", str(repo), "--owner", owner, "--timeout", "2"]) == 1
    assert "argument --owner" not in capsys.readouterr().err


@pytest.mark.parametrize("namespace", ["", "Upper", "under_score", "dot.ted", "-dash", "x" * 64])
def test_a_default_namespace_that_is_no_kubernetes_namespace_is_a_usage_error(
    namespace: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(repo), f"--default-namespace={namespace}"]) == 64
    assert "argument --default-namespace: " in capsys.readouterr().err


def test_an_export_namespace_that_is_no_kubernetes_namespace_is_a_usage_error(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert (
        main(["export", "--context", str(repo / "context.yaml"), "--out", str(out), "--namespace", "Team_A"])
        == 64
    )
    assert "argument --namespace: 'Team_A' is not a Kubernetes namespace" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("path", ["../elsewhere", "/etc"])
def test_a_path_that_leaves_the_repository_is_a_usage_error(
    path: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["diff", str(repo), "--path", path])
    assert code == 64
    assert (
        f"the sub-folder must be relative and stay inside the repository: {path!r}" in capsys.readouterr().err
    )


@pytest.mark.parametrize("size", ["0", "-1"])
def test_a_max_file_size_below_one_byte_is_a_usage_error(
    size: str, repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["validate", str(repo), f"--max-file-size={size}"]) == 64
    assert f"argument --max-file-size: {size} is not a positive number" in capsys.readouterr().err
    monkeypatch.setenv("RECONCILER_MAX_FILE_SIZE", size)
    assert main(["validate", str(repo)]) == 64
    assert "RECONCILER_MAX_FILE_SIZE" in capsys.readouterr().err


def test_a_flag_type_error_from_the_environment_is_a_usage_error_not_a_traceback(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_PRUNE_THRESHOLD", "5")
    assert main(["sync", str(repo)]) == 64
    assert "RECONCILER_PRUNE_THRESHOLD='5' is not a valid value for --prune-threshold: a fraction" in (
        capsys.readouterr().err
    )


def test_validate_inputs_that_do_not_exist_or_are_too_large(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing PATH, and a file over the cap given directly or found in a folder: exit 1, each named."""
    big = tmp_path / "big" / "big.yaml"
    big.parent.mkdir()
    big.write_text(api_yaml("big") + "#" + "x" * 2_000 + "\n")
    assert main(["validate", str(tmp_path / "missing")]) == 1
    assert f"error: {tmp_path / 'missing'}: no such file or directory" in capsys.readouterr().out
    for given in (big, big.parent):
        assert main(["validate", str(given), str(repo), "--max-file-size", "1024"]) == 1
        out = capsys.readouterr().out
        size = big.stat().st_size
        assert f"{big}:1:1: error: file is {size:,} bytes, over the 1,024-byte limit (--max-file-size)" in out
