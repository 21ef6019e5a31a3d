"""Template syntax: recognised now, resolved later with credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifests.templates import (
    TemplateKind,
    TemplateSyntaxError,
    is_whole_template,
    parse_templates,
)
from tests.manifests.helpers import CONTEXT, api_v4, load, only_error, write


@pytest.mark.parametrize(
    ("text", "kind", "name", "key"),
    [
        ("[[ secret `creds/token` ]]", TemplateKind.SECRET, "creds", "token"),
        ('[[ secret "creds/token" ]]', TemplateKind.SECRET, "creds", "token"),
        ("[[configmap `urls/tls.crt`]]", TemplateKind.CONFIGMAP, "urls", "tls.crt"),
        ("[[ env `APIM_VAR_BACKEND_URL` ]]", TemplateKind.ENV, "", "APIM_VAR_BACKEND_URL"),
    ],
)
def test_forms_we_understand(text: str, kind: TemplateKind, name: str, key: str) -> None:
    (ref,) = parse_templates(text)
    assert (ref.kind, ref.name, ref.key) == (kind, name, key)
    assert is_whole_template(text)


def test_templates_inside_longer_strings() -> None:
    refs = parse_templates("https://[[ configmap `hosts/api` ]]:[[ env `APIM_VAR_PORT` ]]/v1")
    assert [r.text for r in refs] == ["configmap hosts/api", "env APIM_VAR_PORT"]
    assert not is_whole_template("https://[[ configmap `hosts/api` ]]")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[ secret `creds/token`", "unterminated template"),
        ("[[ vault `creds/token` ]]", "unknown template function 'vault'"),
        ("[[ secret `token` ]]", "needs `name/key`"),
        ("[[ secret `a/b/c/d` ]]", "needs `name/key`"),
        ("[[ secret `team-a/creds/token` ]]", "names a namespace: like GKO"),
        ("[[ configmap `team-a/urls/host` ]]", "names a namespace: like GKO"),
        ("[[ env `HOME` ]]", "env templates read only variables whose name starts with APIM_VAR_"),
        ("[[ secret `Bad_Name/key` ]]", "'Bad_Name' is not a valid Kubernetes name"),
        ("[[ env `1X` ]]", "env template needs a variable name"),
        ("[[ secret creds/token ]]", "malformed template"),
    ],
)
def test_malformed_templates(text: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError, match=message.replace("[", r"\[").replace("`", "`")):
        parse_templates(text)


def test_template_may_stand_for_an_enum_value(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(
        tmp_path,
        "api.yaml",
        api_v4("echo").replace("type: KEY_LESS", 'type: "[[ secret `plans/security` ]]"'),
    )
    assert load(tmp_path).ok


def test_malformed_template_is_reported_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(
        tmp_path,
        "api.yaml",
        api_v4("echo").replace("target: https://backend.example.com", 'target: "[[ secret `nokey` ]]"'),
    )
    error = only_error(load(tmp_path))
    assert error.position is not None and error.position.line == 25
    assert "needs `name/key`" in error.message
    assert str(error).endswith(
        "(ApiV4Definition/default/echo at spec.endpointGroups[0].endpoints[0].configuration.target)"
    )


def test_template_outside_spec_is_an_error(tmp_path: Path) -> None:
    write(
        tmp_path, "ctx.yaml", CONTEXT.replace("metadata:\n", "metadata:\n  labels:\n    x: '[[ env `X` ]]'\n")
    )
    error = only_error(load(tmp_path))
    assert "templates are only resolved under spec" in error.message


def test_the_loader_notes_which_specs_hold_templates(tmp_path: Path) -> None:
    """Only those go through template resolution at sync time; the others are used as loaded."""
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "plain.yaml", api_v4("plain", "/plain"))
    write(
        tmp_path,
        "templated.yaml",
        api_v4("templated", "/t").replace("type: KEY_LESS", 'type: "[[ env `APIM_VAR_T` ]]"'),
    )
    flags = {r.name: r.has_templates for r in load(tmp_path).resources}
    assert flags == {"ctx": False, "plain": False, "templated": True}
