"""How schema errors read: at the field's line, in the user's words."""

from __future__ import annotations

from pathlib import Path

from tests.manifests.helpers import CONTEXT, api_v4, load, only_error, write


def test_unknown_field_with_a_suggestion(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "api.yaml", api_v4("echo").replace("  listeners:", "  listners:"))
    problems = load(tmp_path).errors
    messages = [(p.position.line if p.position else 0, p.message) for p in problems]
    assert (11, "unknown field 'listners'; did you mean 'listeners'?") in messages


def test_wrong_enum_points_at_the_value(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "api.yaml", api_v4("echo").replace("type: PROXY", "type: SOAP"))
    error = only_error(load(tmp_path))
    assert error.position is not None and error.position.line == 10
    assert error.message.startswith('"SOAP" is not one of "PROXY", "MESSAGE", "NATIVE"')
    assert str(error).endswith("(ApiV4Definition/default/echo at spec.type)")


def test_missing_required_field_points_at_its_parent(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT.replace("  baseUrl: http://127.0.0.1:8083\n", ""))
    error = only_error(load(tmp_path))
    assert error.message == "missing required field 'baseUrl'"
    assert error.position is not None and error.position.line == 5


def test_wrong_type(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "api.yaml", api_v4("echo").replace("  listeners:\n", "  tags: gold\n  listeners:\n"))
    error = only_error(load(tmp_path))
    assert error.message == 'expected a list, got a string ("gold")'
