""".sourceignore: paths kept out of a load as Flux's source-controller keeps them out of an artifact,
never silently, and never past the prune guards."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from reconciler.manifests import LoadOptions
from reconciler.manifests.ignore import FLUX_DEFAULT_EXCLUSIONS
from reconciler.plan.model import ActionKind
from reconciler.plan.planner import make_plan
from reconciler.report.problems import render_json, summary_line
from reconciler.source import GitSource, Snapshot
from reconciler.source.backoff import Backoff
from reconciler.sync.loading import load_snapshot
from tests.manifests.helpers import CONTEXT, api_v4, load, write
from tests.plan.plan_helpers import OPTIONS, applied, desired, one, remote
from tests.source.gitservers import Upstream

HELM_VALUES = "replicaCount: 1\nimage:\n  repository: graviteeio/apim-gateway\n"
CHART = "apiVersion: v2\nname: gateway\nversion: 1.0.0\n"


def _repository(tmp_path: Path) -> Path:
    """A GKO repository with a Helm chart beside it, as teams keep them."""
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "apis/echo.yaml", api_v4("echo"))
    write(tmp_path, "values.yaml", HELM_VALUES)
    write(tmp_path, "chart/Chart.yaml", CHART)
    write(tmp_path, "chart/templates/deployment.yaml", "kind: Deployment\n{{ .Values.image }}: x\n")
    return tmp_path


def test_without_a_sourceignore_helm_files_are_errors_that_name_it(tmp_path: Path) -> None:
    manifests = load(_repository(tmp_path))
    assert not manifests.ok
    messages = {
        e.position.file.removeprefix(str(tmp_path) + "/"): e.message for e in manifests.errors if e.position
    }
    assert ".sourceignore" in messages["values.yaml"] and ".sourceignore" in messages["chart/Chart.yaml"]
    assert "chart/templates/deployment.yaml" in messages  # not YAML at all


def test_sourceignore_keeps_them_out_and_says_so(tmp_path: Path) -> None:
    root = _repository(tmp_path)
    write(root, ".sourceignore", "# Helm\n/values.yaml\nchart/\n")
    manifests = load(root)
    assert manifests.ok, manifests.errors
    assert sorted(r.name for r in manifests.resources) == ["ctx", "echo"]
    assert manifests.files == 2
    assert manifests.ignored == (f"{root}/chart/", f"{root}/values.yaml")
    (warning,) = manifests.warnings
    assert warning.message.startswith(
        f"2 paths not read (.sourceignore or Flux's default exclusions): {root}/chart/, "
    )
    assert "pruned like any other resource that left the repository (prune guards apply)" in warning.message
    assert summary_line(manifests) == "2 resources OK, 0 errors, 1 warning in 2 files (2 paths ignored)"
    assert '"ignored": 2' in render_json(manifests)


def test_patterns_are_relative_to_their_folder_and_deeper_files_win(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, ".sourceignore", "*-draft.yaml\n")
    write(tmp_path, "team/a-draft.yaml", "not: a manifest\n")
    write(tmp_path, "team/b-draft.yaml", api_v4("b", "/b"))
    write(tmp_path, "team/.sourceignore", "!b-draft.yaml\n/local.yaml\n")
    write(tmp_path, "team/local.yaml", "not: a manifest\n")
    write(tmp_path, "local.yaml", api_v4("top", "/top"))  # `/local.yaml` of team/ is team's only
    manifests = load(tmp_path)
    assert manifests.ok, manifests.errors
    assert sorted(r.name for r in manifests.resources) == ["b", "ctx", "top"]
    assert [Path(p).relative_to(tmp_path).as_posix() for p in manifests.ignored] == [
        "team/a-draft.yaml",
        "team/local.yaml",
    ]


def test_flux_default_exclusions_apply_and_may_be_overruled(tmp_path: Path) -> None:
    assert "cloudbuild.yaml" in FLUX_DEFAULT_EXCLUSIONS and "appveyor.yml" in FLUX_DEFAULT_EXCLUSIONS
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "cloudbuild.yaml", "steps:\n  - name: gcr.io/cloud-builders/docker\n")
    write(tmp_path, "ci/appveyor.yml", "version: 1.0.{build}\n")
    manifests = load(tmp_path)
    assert manifests.ok and len(manifests.resources) == 1
    assert [Path(p).name for p in manifests.ignored] == ["appveyor.yml", "cloudbuild.yaml"]
    write(tmp_path, ".sourceignore", "!cloudbuild.yaml\n")
    again = load(tmp_path)
    assert [e.position.file for e in again.errors if e.position] == [str(tmp_path / "cloudbuild.yaml")]


def test_an_ignored_folder_is_not_walked(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, ".sourceignore", "vendor/\n")
    (tmp_path / "vendor").mkdir()
    os.symlink("/etc", tmp_path / "vendor" / "linked")  # an error anywhere the loader reads
    write(tmp_path, "vendor/bad.yaml", "a: [\n")
    manifests = load(tmp_path)
    assert manifests.ok and not manifests.errors
    assert manifests.ignored == (f"{tmp_path}/vendor/",)


def test_a_sourceignore_that_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    (tmp_path / ".sourceignore").write_bytes(b"values.yaml\n\xff\n")
    manifests = load(tmp_path)
    (error,) = manifests.errors
    assert error.message == ".sourceignore is not valid UTF-8"
    assert error.position is not None and error.position.file == str(tmp_path / ".sourceignore")
    (tmp_path / ".sourceignore").unlink()
    os.symlink("/etc/passwd", tmp_path / ".sourceignore")
    (error,) = load(tmp_path).errors
    assert error.message == ".sourceignore is not a regular file; refused"


def test_an_ignored_file_is_pruned_only_through_the_guards(tmp_path: Path) -> None:
    names = [f"api{i}" for i in range(8)]
    for name in names:
        write(tmp_path, f"apis/{name}.yaml", api_v4(name, f"/{name}", context="dev-ctx"))
    everything = load(tmp_path).resources
    before = desired(*everything)
    summaries, full = remote(*(applied(one(before, n)) for n in names))

    write(tmp_path, ".sourceignore", "apis/api7.yaml\n")  # one of eight: within the 25% threshold
    one_ignored = load(tmp_path)
    assert "1 path not read" in one_ignored.warnings[0].message
    plan = make_plan(desired(*one_ignored.resources), summaries, full, OPTIONS)
    deleted = [a for a in plan.actions if a.kind is ActionKind.DELETE]
    assert [a.resource.name for a in deleted] == ["api7"]

    write(tmp_path, ".sourceignore", "apis/api[5-7].yaml\n")  # three of eight: refused, and the run fails
    three_ignored = load(tmp_path)
    assert "3 paths not read" in three_ignored.warnings[0].message
    plan = make_plan(desired(*three_ignored.resources), summaries, full, OPTIONS)
    assert sorted(a.resource.name for a in plan.actions if a.kind is ActionKind.BLOCKED) == [
        "api5",
        "api6",
        "api7",
    ]
    assert not any(a.kind is ActionKind.DELETE for a in plan.actions) and plan.has_errors

    write(tmp_path, ".sourceignore", "apis/\n")  # everything: never deletes all
    plan = make_plan(desired(*load(tmp_path).resources), summaries, full, OPTIONS)
    assert not any(a.kind is ActionKind.DELETE for a in plan.actions) and plan.has_errors


def test_a_git_checkout_under_path_honours_the_repository_sourceignore(tmp_path: Path) -> None:
    upstream = Upstream(tmp_path / "srv")
    upstream.commit(
        {
            ".sourceignore": "/gko/helm-values.yaml\n",
            "gko/ctx.yaml": CONTEXT,
            "gko/echo.yaml": api_v4("echo"),
            "gko/helm-values.yaml": HELM_VALUES,
            "gko/.sourceignore": "draft.yaml\n",
            "gko/draft.yaml": "a: [\n",
        }
    )
    source = GitSource(
        f"file://{upstream.bare}", cache_dir=tmp_path / "cache", backoff=Backoff(attempts=1), path="gko"
    )
    snapshot = source.snapshot()
    manifests = load_snapshot(snapshot, LoadOptions(), sub_path="gko")
    assert manifests.ok, manifests.errors
    assert sorted(r.name for r in manifests.resources) == ["ctx", "echo"]
    assert manifests.ignored == ("gko/draft.yaml", "gko/helm-values.yaml")
    # The same folder loaded as a folder source: only the folder's own .sourceignore applies.
    folder = Snapshot("folder:x", snapshot.root, None, str(snapshot.root), datetime.now(UTC))
    alone = load_snapshot(folder, LoadOptions(), folder_display=str(snapshot.root))
    assert [Path(e.position.file).name for e in alone.errors if e.position] == ["helm-values.yaml"]
