"""Checks across resources and files."""

from __future__ import annotations

from pathlib import Path

from tests.manifests.helpers import CONTEXT, api_v4, load, only_error, write


def test_duplicate_identity_across_files_names_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a/ctx.yaml", CONTEXT)
    write(tmp_path, "b/ctx.yaml", CONTEXT)
    error = only_error(load(tmp_path))
    assert error.position is not None and error.position.file.endswith("b/ctx.yaml")
    assert (
        error.message
        == f"duplicate ManagementContext/default/ctx: first defined at {tmp_path}/a/ctx.yaml:1:1"
    )


def test_same_name_in_two_namespaces_is_not_a_duplicate(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    other = CONTEXT.replace("  name: ctx\n", "  name: ctx\n  namespace: other\n")
    write(tmp_path, "ctx2.yaml", other)
    assert load(tmp_path).ok


def test_unknown_context_ref(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "api.yaml", api_v4("echo", context="prod"))
    error = only_error(load(tmp_path))
    assert (
        error.message
        == "contextRef default/prod names no ManagementContext in the repository (known: default/ctx)"
    )
    assert error.position is not None and error.position.line == 7


def test_context_ref_with_namespace(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT.replace("  name: ctx\n", "  name: ctx\n  namespace: platform\n"))
    write(
        tmp_path,
        "api.yaml",
        api_v4("echo").replace("    name: ctx\n", "    name: ctx\n    namespace: platform\n"),
    )
    assert load(tmp_path).ok


def test_clashing_listener_paths_in_one_context(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "one.yaml", api_v4("one", "/shop"))
    write(tmp_path, "two.yaml", api_v4("two", "/shop/"))
    error = only_error(load(tmp_path))
    assert error.message.startswith("path /shop/ is already used by ApiV4Definition/default/one")
    assert (
        error.position is not None and error.position.file.endswith("two.yaml") and error.position.line == 14
    )


def test_same_path_on_different_hosts_or_contexts_is_fine(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT + "---\n" + CONTEXT.replace("name: ctx", "name: prod"))
    write(tmp_path, "one.yaml", api_v4("one", "/shop"))
    write(tmp_path, "two.yaml", api_v4("two", "/shop", context="prod"))
    write(
        tmp_path,
        "three.yaml",
        api_v4("three", "/shop").replace("- path: /shop", "- path: /shop\n          host: a.example.com"),
    )
    assert load(tmp_path).ok


def test_v2_and_v4_apis_clash_too(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "v4.yaml", api_v4("v4", "/legacy"))
    write(
        tmp_path,
        "v2.yaml",
        "apiVersion: gravitee.io/v1alpha1\nkind: ApiDefinition\nmetadata:\n  name: v2\nspec:\n"
        "  contextRef:\n    name: ctx\n  name: v2\n  description: old\n  version: '1'\n  proxy:\n    virtual_hosts:\n"
        "      - path: /legacy/\n    groups:\n      - endpoints:\n          - name: e\n            target: https://x\n",
    )
    error = only_error(load(tmp_path))
    assert "path /legacy/ is already used by ApiDefinition/default/v2" in error.message


def test_plan_keys_colliding_after_hrid_normalisation(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    extra_plan = "    Key less:\n      name: other\n      security:\n        type: KEY_LESS\n"
    write(
        tmp_path,
        "api.yaml",
        api_v4("echo").replace("  plans:\n    Keyless:", "  plans:\n    Key-less:") + extra_plan,
    )
    error = only_error(load(tmp_path))
    assert (
        error.message
        == "plan keys 'Key-less' and 'Key less' both become HRID 'Key-less' (spaces and dots become dashes)"
    )


def test_colliding_hrids_across_namespaces(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(
        tmp_path,
        "a.yaml",
        api_v4("b-c", "/one").replace("  name: b-c\nspec", "  name: b-c\n  namespace: default\nspec", 1),
    )
    shifted = api_v4("c", "/two").replace("  name: c\nspec", "  name: c\n  namespace: default-b\nspec", 1)
    shifted = shifted.replace("    name: ctx\n", "    name: ctx\n    namespace: default\n")
    write(tmp_path, "b.yaml", shifted)
    error = only_error(load(tmp_path))
    assert "HRID 'default-b-c' is also the HRID of ApiV4Definition/default/b-c" in error.message


def test_two_contexts_on_one_environment(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(
        tmp_path, "ctx2.yaml", CONTEXT.replace("name: ctx", "name: other").replace("8083", "8083/management/")
    )
    manifests = load(tmp_path)
    (warning,) = manifests.warnings
    assert manifests.ok and warning.message.startswith(
        "targets the same APIM environment as ManagementContext/default/ctx"
    )
    write(
        tmp_path,
        "ctx2.yaml",
        CONTEXT.replace("name: ctx", "name: other").replace("DEFAULT\n  auth", "PROD\n  auth"),
    )
    assert not load(tmp_path).warnings
