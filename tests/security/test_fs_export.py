"""`export` never writes through a symlink it did not create, and writes nothing outside `--out`.

`--out` is often a folder of a checked-out repository (export into `repo/apim/`, then open a pull
request), so what is under it may have been committed by someone else: `apis -> /etc`, or
`apis/orders.yaml -> ~/.bashrc`. Each trap must be refused before anything is written (exit 1, a
message naming the path), with the target untouched. Real emulator, real files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.emulator import RunningEmulator
from tests.apply.helpers import Repo, api_yaml, app_yaml, set_token_env

VICTIM_TEXT = "# the user's own file\n"


@pytest.fixture
def context_file(tmp_path: Path, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    """APIM with one API and one application made by a sync; the context's manifest file."""
    set_token_env(monkeypatch, emulator.base_url)
    repo = Repo(tmp_path / "repo", emulator.base_url)
    repo.write("orders.yaml", api_yaml("orders"))
    repo.write("shop.yaml", app_yaml("shop"))
    assert main(["sync", str(repo.root), "--output", "json"]) == 0
    return repo.root / "context.yaml"


def export(capsys: pytest.CaptureFixture[str], context: Path, out: Path, *flags: str) -> tuple[int, str]:
    code = main(["export", "--context", str(context), "--out", str(out), *flags])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def tree(root: Path) -> dict[str, str]:
    """Every entry under `root`, links as links (never followed), with file contents."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            out[key] = f"-> {path.readlink()}"
        elif path.is_file():
            out[key] = path.read_text()
        else:
            out[key] = "/"
    return out


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_a_symlinked_folder_inside_out_is_not_written_through(
    force: bool, tmp_path: Path, context_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text(VICTIM_TEXT)
    out = tmp_path / "out"
    out.mkdir()
    (out / "apis").symlink_to(victim)
    before = tree(out)

    code, text = export(capsys, context_file, out, *(["--force"] if force else []))

    assert code == 1
    assert f"{out / 'apis'} is a symlink (to {victim}), which would be written through" in text
    assert "nothing was written" in text and "Traceback" not in text
    assert tree(victim) == {"keep.txt": VICTIM_TEXT}  # nothing written where the link points
    assert tree(out) == before  # nor anything else (applications/ not created either)


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_a_symlinked_file_inside_out_is_neither_written_through_nor_replaced(
    force: bool, tmp_path: Path, context_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "bashrc"
    victim.write_text(VICTIM_TEXT)
    out = tmp_path / "out"
    (out / "apis").mkdir(parents=True)
    (out / "apis" / "orders.yaml").symlink_to(victim)
    before = tree(out)

    code, text = export(capsys, context_file, out, *(["--force"] if force else []))

    assert code == 1
    assert "orders.yaml is a symlink" in text and "nothing was written" in text
    assert victim.read_text() == VICTIM_TEXT
    assert tree(out) == before


def test_out_itself_a_symlink_is_refused_with_the_real_path_to_give(
    tmp_path: Path, context_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)

    code, text = export(capsys, context_file, link)

    assert code == 1
    assert f"--out {link} is a symlink (to {real}); give the folder itself (--out {real})" in text
    assert tree(real) == {}
    code, text = export(capsys, context_file, real)
    assert code == 0, text
    assert sorted(tree(real)) == ["apis", "apis/orders.yaml", "applications", "applications/shop.yaml"]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda out: (out / "apis").write_text("not a folder"), "apis is not a folder"),
        (lambda out: (out / "apis" / "orders.yaml").mkdir(parents=True), "exists and is not a regular file"),
    ],
    ids=["file-where-a-folder-goes", "folder-where-a-file-goes"],
)
def test_something_other_than_a_folder_or_file_in_the_way_is_a_clear_error(
    make: Callable[[Path], object],
    expected: str,
    tmp_path: Path,
    context_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """These ended in a traceback (FileExistsError, IsADirectoryError) with --force."""
    out = tmp_path / "out"
    out.mkdir()
    make(out)
    before = tree(out)

    code, text = export(capsys, context_file, out, "--force")

    assert code == 1
    assert expected in text and "Traceback" not in text
    assert tree(out) == before


def test_written_files_get_the_umask_mode_and_no_temporary_file_stays(
    tmp_path: Path, context_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Files are created fresh (O_EXCL, never through a link) with the umask's mode, as git would."""
    out = tmp_path / "out"
    code, text = export(capsys, context_file, out)
    assert code == 0, text
    umask = os.umask(0o022)
    os.umask(umask)
    assert (out / "apis" / "orders.yaml").stat().st_mode & 0o777 == 0o666 & ~umask
    assert not list(out.rglob(".*"))
