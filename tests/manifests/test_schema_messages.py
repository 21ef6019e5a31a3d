"""How schema errors read: at the field's line, in the user's words."""

from __future__ import annotations

from pathlib import Path

from jsonschema import Draft202012Validator

from reconciler.manifests.schema import describe_error
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


FIELDLESS = """\
apiVersion: gravitee.io/v1alpha1
kind: ApiV4Definition
metadata:
  name: empty
spec:
  contextRef:
    name: ctx
"""


def test_a_spec_missing_several_fields_gets_one_message_naming_them_all(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "api.yaml", FIELDLESS)
    error = only_error(load(tmp_path))
    assert error.message == (
        "missing required fields 'name', 'version', 'type', 'listeners' and 'endpointGroups'"
    )
    assert str(error).startswith(f"{tmp_path / 'api.yaml'}:5:1: error: ")


def _application(settings: str) -> str:
    return (
        "apiVersion: gravitee.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop\nspec:\n"
        "  contextRef:\n    name: ctx\n  name: shop\n  description: d\n  settings:\n" + settings
    )


def test_app_and_oauth_together_name_both_alternatives(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    both = "    app:\n      type: WEB\n    oauth:\n      applicationType: BROWSER\n      grantTypes: [implicit]\n"
    write(tmp_path, "app.yaml", _application(both))
    error = only_error(load(tmp_path))
    assert error.message == (
        "'app' and 'oauth' cannot be set together: choose 'app' (Simple application) or 'oauth' "
        "(OAuth client created through dynamic client registration)"
    )
    assert error.position is not None and error.position.line == 10 and error.field == ("spec", "settings")


def test_app_and_oauth_together_name_the_one_the_document_almost_is(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(
        tmp_path,
        "app.yaml",
        _application("    app:\n      type: WEB\n    oauth:\n      applicationType: WEB\n"),
    )
    messages = [p.message for p in load(tmp_path).errors]
    assert any(m.endswith("the document is closest to 'app' alone (remove 'oauth')") for m in messages)


def test_a_step_with_neither_policy_nor_shared_group_says_which_fields_it_needs(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "api.yaml", api_v4("echo") + "  flows:\n    - request:\n        - name: no policy\n")
    error = only_error(load(tmp_path))
    assert error.message == "needs one of the fields 'policy' or 'sharedPolicyGroupRef'; none is set"
    assert error.field == ("spec", "flows", 0, "request", 0)


def test_one_of_failures_list_the_alternatives_and_the_closest() -> None:
    """No shipped schema has a oneOf today (GKO's may): a small one shows how its errors read."""
    schema = {
        "$defs": {
            "key": {"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}}},
            "jwt": {
                "type": "object",
                "required": ["issuer", "audience"],
                "properties": {"issuer": {"type": "string"}, "audience": {"type": "string"}},
            },
        },
        "properties": {"security": {"oneOf": [{"$ref": "#/$defs/key"}, {"$ref": "#/$defs/jwt"}]}},
    }
    validator = Draft202012Validator(schema)
    (error,) = validator.iter_errors({"security": {"issuer": "https://idp"}})
    path, message = describe_error(error, validator)
    assert path == ("security",)
    assert message == (
        "matches none of the alternatives 'key' or 'jwt'; closest is 'jwt': missing required field 'audience'"
    )
    both = Draft202012Validator({"oneOf": [{"type": "string"}, {"maxLength": 3}]})
    (error,) = both.iter_errors("ab")
    assert describe_error(error, both)[1] == (
        "matches more than one of the alternatives a string or alternative 2: it must match exactly one"
    )
