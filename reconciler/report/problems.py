"""Rendering of the problems that `validate` (and every command that loads manifests) finds."""

from __future__ import annotations

import json

from reconciler.manifests.model import ManifestSet, Problem, format_field_path
from reconciler.secrets.redaction import default_redactor

PROBLEMS_JSON_VERSION = 1


def summary_line(manifests: ManifestSet) -> str:
    with_errors = manifests.with_errors
    ok = sum(1 for r in manifests.resources if r.id not in with_errors)
    errors, warnings = len(manifests.errors), len(manifests.warnings)
    ignored = len(manifests.ignored)
    return (
        f"{ok} resource{'s' if ok != 1 else ''} OK, {errors} error{'s' if errors != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''} in {manifests.files} file{'s' if manifests.files != 1 else ''}"
        + (f" ({ignored} path{'s' if ignored != 1 else ''} ignored)" if ignored else "")
    )


def render_text(manifests: ManifestSet) -> str:
    lines = [str(problem) for problem in manifests.problems]
    lines.append(summary_line(manifests))
    return default_redactor().scrub("\n".join(lines) + "\n")


def problem_json(problem: Problem) -> dict[str, object]:
    pos = problem.position
    rid = problem.resource
    return {
        "file": pos.file if pos else None,
        "line": pos.line if pos else None,
        "column": pos.column if pos else None,
        "severity": str(problem.severity),
        "message": problem.message,
        "resource": {"kind": rid.kind, "namespace": rid.namespace, "name": rid.name} if rid else None,
        "field": format_field_path(problem.field) or None,
        "involves": [{"kind": r.kind, "namespace": r.namespace, "name": r.name} for r in problem.involves],
    }


def render_json(manifests: ManifestSet) -> str:
    with_errors = manifests.with_errors
    document = {
        "version": PROBLEMS_JSON_VERSION,
        "ok": manifests.ok,
        "summary": {
            "files": manifests.files,
            "resources": len(manifests.resources),
            "resources_ok": sum(1 for r in manifests.resources if r.id not in with_errors),
            "errors": len(manifests.errors),
            "warnings": len(manifests.warnings),
            "ignored": len(manifests.ignored),
        },
        "resources": [
            {
                "kind": r.kind,
                "namespace": r.namespace,
                "name": r.name,
                "file": r.position.file,
                "line": r.position.line,
                "ok": r.id not in with_errors,
            }
            for r in manifests.resources
        ],
        "problems": [problem_json(p) for p in manifests.problems],
        "ignored": list(manifests.ignored),
    }
    return default_redactor().scrub(json.dumps(document, indent=2) + "\n")
