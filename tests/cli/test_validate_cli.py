"""`apim-reconciler validate` and `schema`, run as real subprocesses, as users and CI run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.manifests.helpers import CONTEXT, api_v4, write
from tests.reference import REFERENCE

REPO = Path(__file__).resolve().parents[2]


def run(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_samples_and_gko_examples_are_valid() -> None:
    if not REFERENCE.is_dir():
        pytest.skip(f"the shared reference material is not at {REFERENCE}")
    result = run("validate", "samples/", REFERENCE / "gko-examples")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("98 resources OK, 0 errors, ")


def test_each_gko_context_variant_is_valid_alone() -> None:
    variants = sorted((REFERENCE / "gko-context-variants").rglob("*.yml"))
    if not variants:
        pytest.skip("no reference context variants")
    for variant in variants:
        result = run("validate", variant)
        assert result.returncode == 0, f"{variant}: {result.stdout}"


def test_broken_repository_gives_one_precise_error_per_problem(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "syntax.yaml", "apiVersion: gravitee.io/v1alpha1\nkind: [\n")
    write(tmp_path, "enum.yaml", api_v4("enum", "/a").replace("type: PROXY", "type: SOAP"))
    write(tmp_path, "ref.yaml", api_v4("ref", "/b", context="nope"))
    write(tmp_path, "clash.yaml", api_v4("clash", "/a"))
    result = run("validate", ".", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines == [
        'enum.yaml:10:3: error: "SOAP" is not one of "PROXY", "MESSAGE", "NATIVE", "LLM_PROXY", "MCP_PROXY", '
        '"A2A_PROXY" (ApiV4Definition/default/enum at spec.type)',
        "enum.yaml:14:11: error: path /a/ is already used by ApiV4Definition/default/clash (clash.yaml:1:1) in the "
        "same management context (ApiV4Definition/default/enum at spec.listeners[0].paths[0].path)",
        "ref.yaml:7:5: error: contextRef default/nope names no ManagementContext in the repository (known: "
        "default/ctx) (ApiV4Definition/default/ref at spec.contextRef.name)",
        "syntax.yaml:3:1: error: while parsing a flow node: expected the node content, but found '<stream end>'",
        "1 resource OK, 4 errors, 0 warnings in 5 files",  # clash.yaml holds the path enum.yaml claims
    ]


def test_both_sides_of_a_cross_file_error_are_counted_as_not_ok(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "first.yaml", api_v4("first", "/same"))
    write(tmp_path, "second.yaml", api_v4("second", "/same"))
    text = run("validate", ".", cwd=tmp_path)
    assert text.returncode == 1
    assert text.stdout.splitlines()[-1] == "1 resource OK, 1 error, 0 warnings in 3 files"
    report = json.loads(run("validate", "--output", "json", ".", cwd=tmp_path).stdout)
    assert report["summary"]["resources_ok"] == 1
    assert {r["name"]: r["ok"] for r in report["resources"]} == {"ctx": True, "first": False, "second": False}
    (problem,) = report["problems"]
    assert problem["resource"]["name"] == "second"
    assert problem["involves"] == [{"kind": "ApiV4Definition", "namespace": "default", "name": "first"}]


def test_json_output_is_the_same_report(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "api.yaml", api_v4("echo", context="nope"))
    result = run("validate", "--output", "json", tmp_path)
    assert result.returncode == 1
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["version"] == 1 and report["ok"] is False
    assert report["summary"] == {
        "files": 2,
        "resources": 2,
        "resources_ok": 1,
        "errors": 1,
        "warnings": 0,
        "ignored": 0,
    }
    (problem,) = report["problems"]
    assert problem == {
        "file": str(tmp_path / "api.yaml"),
        "line": 7,
        "column": 5,
        "severity": "error",
        "message": "contextRef default/nope names no ManagementContext in the repository (known: default/ctx)",
        "resource": {"kind": "ApiV4Definition", "namespace": "default", "name": "echo"},
        "field": "spec.contextRef.name",
        "involves": [],
    }
    assert {r["name"]: r["ok"] for r in report["resources"]} == {"ctx": True, "echo": False}


def test_flags_can_come_from_the_environment(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    env_run = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        env={
            "RECONCILER_OUTPUT": "json",
            "RECONCILER_DEFAULT_NAMESPACE": "platform",
            "PATH": "/usr/bin:/bin",
        },
        cwd=REPO,
        timeout=60,
    )
    assert env_run.returncode == 0, env_run.stderr
    assert json.loads(env_run.stdout)["resources"][0]["namespace"] == "platform"


def test_a_flag_on_the_command_line_wins_over_its_variable(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "--output", "text", str(tmp_path)],
        capture_output=True,
        text=True,
        env={"RECONCILER_OUTPUT": "json", "PATH": "/usr/bin:/bin"},
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1 resource OK, 0 errors, 0 warnings in 1 file\n"


@pytest.mark.parametrize(
    "args",
    [(), ("validate",), ("nosuchcommand",), ("validate", "--output", "yaml", "x"), ("schema", "Ingress")],
)
def test_usage_errors_exit_64(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 64, result.stderr
    assert result.stdout == ""


def test_schema_command_prints_each_kind(tmp_path: Path) -> None:
    result = run("schema", "ApiV4Definition")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["kind"]["const"] == "ApiV4Definition"
    result = run("schema", "--all", "--out", tmp_path / "out")
    assert result.returncode == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "ApiDefinition.json",
        "ApiV4Definition.json",
        "Application.json",
        "ManagementContext.json",
    ]


def test_help_lists_the_commands_and_exit_codes() -> None:
    result = run("--help")
    assert result.returncode == 0
    for word in ("validate", "schema", "Exit codes: 0 success, 1 errors"):
        assert word in result.stdout
