"""The loader: files, YAML safety, positions, and what counts as one of our resources."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from reconciler.manifests.model import ResourceId, Severity
from tests.manifests.helpers import CONTEXT, api_v4, load, only_error, write


def test_resource_keeps_file_and_line_of_document_and_fields(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "apis/echo.yaml", "# a comment\n\n" + api_v4("echo"))
    manifests = load(tmp_path)
    assert manifests.ok, manifests.problems
    api = next(r for r in manifests.resources if r.kind == "ApiV4Definition")
    assert api.id == ResourceId("ApiV4Definition", "default", "echo")
    assert api.position.file == str(tmp_path / "apis/echo.yaml")
    assert api.position.line == 3
    assert api.at("listeners", 0, "paths", 0, "path").line == 16
    assert api.at("plans", "Keyless", "security", "type").line == 32
    # a field that is not written points at its nearest written parent
    assert api.at("plans", "Keyless", "status").line == api.at("plans", "Keyless").line


def test_documents_written_alike_share_their_field_paths(tmp_path: Path) -> None:
    # A repository of thousands of APIs from one template keeps one set of paths, not one per file.
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "a.yaml", api_v4("a", "/a"))
    write(tmp_path, "b.yaml", "\n\n" + api_v4("b", "/b"))
    apis = sorted((r for r in load(tmp_path).resources if r.kind == "ApiV4Definition"), key=lambda r: r.name)
    a, b = (r.positions for r in apis)
    assert a._shape is b._shape
    assert (
        b.of(("spec", "listeners", 0, "paths", 0, "path")).line
        == a.of(("spec", "listeners", 0, "paths", 0, "path")).line + 2
    )
    assert b.of(("spec", "listeners")).file == str(tmp_path / "b.yaml")


def test_positions_moved_to_another_file_name_keep_their_lines(tmp_path: Path) -> None:
    write(tmp_path, "ctx.yaml", CONTEXT)
    write(tmp_path, "a.yaml", api_v4("a"))
    api = next(r for r in load(tmp_path).resources if r.kind == "ApiV4Definition")
    moved = api.positions.moved("apis/a.yaml")
    path = ("spec", "plans", "Keyless", "security", "type")
    where = api.positions.of(path)
    assert str(moved.of(path)) == f"apis/a.yaml:{where.line}:{where.column}"
    assert moved.document.file == "apis/a.yaml"
    assert moved != api.positions  # another file
    assert api.positions.moved(api.position.file) == api.positions


def test_multi_document_files_and_namespaces(tmp_path: Path) -> None:
    ns_api = api_v4("echo", "/other").replace(
        "  name: echo\nspec", "  name: echo\n  namespace: team-a\nspec", 1
    )
    write(tmp_path, "all.yaml", CONTEXT + "---\n" + api_v4("echo") + "---\n# empty document\n---\n" + ns_api)
    manifests = load(tmp_path, default_namespace="platform")
    ids = {str(r.id) for r in manifests.resources}
    assert ids == {
        "ManagementContext/platform/ctx",
        "ApiV4Definition/platform/echo",
        "ApiV4Definition/team-a/echo",
    }
    # contextRef without a namespace means the resource's own: team-a/ctx does not exist
    error = only_error(manifests)
    assert "contextRef team-a/ctx names no ManagementContext" in error.message
    assert error.position is not None and error.position.line == 52


def test_hidden_folders_and_other_extensions_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, ".git/config.yaml", "not: [valid")
    write(tmp_path, ".hidden.yaml", "not: [valid")
    write(tmp_path, "notes.txt", "not: [valid")
    write(tmp_path, "ctx.yml", CONTEXT)
    manifests = load(tmp_path)
    assert manifests.files == 1 and manifests.ok


def test_empty_files_and_comment_only_files_are_fine(tmp_path: Path) -> None:
    write(tmp_path, "empty.yaml", "")
    write(tmp_path, "comments.yaml", "# nothing here yet\n---\n")
    manifests = load(tmp_path)
    assert manifests.files == 2 and manifests.ok and not manifests.resources


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("a:\n\tb: 1\n", 2, "tabs"),
        ("a: [1, 2\n", 2, "flow sequence"),
        ("a: 1\n b: 2\n", 2, "mapping values are not allowed"),
        ("a: 'open\n", 2, "quoted scalar"),
        ("a: *nowhere\n", 1, "nowhere"),
    ],
)
def test_invalid_yaml_is_one_positioned_error(tmp_path: Path, text: str, line: int, needle: str) -> None:
    write(tmp_path, "bad.yaml", text)
    error = only_error(load(tmp_path))
    assert error.position is not None and error.position.line == line, error
    assert needle in error.message


def test_duplicate_keys_with_different_values_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, "dup.yaml", CONTEXT.replace("  baseUrl:", "  environmentId: OTHER\n  baseUrl:"))
    error = only_error(load(tmp_path))
    assert "duplicate key 'environmentId' with a different value (first defined at line 6)" in error.message
    assert error.position is not None and error.position.line == 9


def test_duplicate_keys_with_the_same_value_are_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "dup.yaml", CONTEXT.replace("  baseUrl:", "  environmentId: DEFAULT\n  baseUrl:"))
    manifests = load(tmp_path)
    assert manifests.ok
    assert [w.message for w in manifests.warnings] == [
        "duplicate key 'environmentId' (same value as at line 6): remove one"
    ]


def test_aliases_and_merge_keys_are_expanded(tmp_path: Path) -> None:
    text = CONTEXT.replace(
        "metadata:\n",
        "metadata:\n  labels: &labels {team: a, tier: gold}\n  annotations:\n    <<: *labels\n    tier: silver\n",
    )
    write(tmp_path, "aliases.yaml", text)
    manifests = load(tmp_path)
    assert manifests.ok, manifests.problems
    (ctx,) = manifests.resources
    assert ctx.metadata["annotations"] == {"team": "a", "tier": "silver"}
    assert ctx.labels == {"team": "a", "tier": "gold"}


def test_anchors_do_not_reach_across_documents(tmp_path: Path) -> None:
    write(tmp_path, "two.yaml", CONTEXT.replace("name: ctx", "name: &x ctx") + "---\nb: *x\n")
    error = only_error(load(tmp_path))
    assert "undefined alias 'x'" in error.message and error.position is not None and error.position.line == 12


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    write(tmp_path, "laughs.yaml", "\n".join(lines) + "\n")
    # "Quickly" without a clock (the machine is shared): refused before expanding, the load allocates
    # little; expanded, the aliases are 9**10 list entries, far beyond the bound.
    tracemalloc.start()
    try:
        error = only_error(load(tmp_path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, f"{peak} bytes allocated at the peak"
    assert "aliases expand to more than" in error.message and "billion laughs" in error.message


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "loop.yaml", "a: &a [*a]\n")
    assert "recursive YAML alias" in only_error(load(tmp_path)).message


def test_deep_nesting_is_refused_before_the_parser_sees_it(tmp_path: Path) -> None:
    write(tmp_path, "deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert "nesting deeper than 100 levels" in only_error(load(tmp_path)).message


def test_block_nesting_is_bounded_too(tmp_path: Path) -> None:
    text = "".join(f"{' ' * i}k{i}:\n" for i in range(150)) + " " * 150 + "leaf: 1\n"
    write(tmp_path, "deep.yaml", text)
    assert "nesting deeper than 100 levels" in only_error(load(tmp_path)).message


@pytest.mark.parametrize("tag", ["!!python/object:os.system", "!!python/name:os.system", "!custom"])
def test_no_arbitrary_object_construction(tmp_path: Path, tag: str) -> None:
    write(tmp_path, "tag.yaml", f"a: {tag} echo\n")
    error = only_error(load(tmp_path))
    assert "unsupported YAML tag" in error.message and "only plain data" in error.message


def test_scalars_become_json_values(tmp_path: Path) -> None:
    write(
        tmp_path,
        "ctx.yaml",
        CONTEXT.replace("metadata:\n", "metadata:\n  labels:\n    when: 2024-01-01\n    hex: '0x1F'\n"),
    )
    manifests = load(tmp_path)
    (ctx,) = manifests.resources
    assert ctx.labels == {"when": "2024-01-01", "hex": "0x1F"}


def test_size_cap(tmp_path: Path) -> None:
    write(tmp_path, "big.yaml", CONTEXT + "# " + "x" * 2000 + "\n")
    error = only_error(load(tmp_path, max_file_size=1024))
    assert "over the 1,024-byte limit" in error.message
    assert load(tmp_path, max_file_size=4096).ok


def test_symlink_outside_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    outside = write(tmp_path, "outside.yaml", CONTEXT)
    (repo / "escape.yaml").symlink_to(outside)
    (repo / "passwd.yaml").symlink_to("/etc/passwd")
    write(repo, "real/ctx.yaml", CONTEXT.replace("name: ctx", "name: inside"))
    (repo / "inside-link.yaml").symlink_to(repo / "real/ctx.yaml")
    manifests = load(repo)
    messages = sorted((e.position.file if e.position else "", e.message) for e in manifests.errors)
    assert [m for _, m in messages] == [
        f"symlink points outside the repository (to {outside}); refused",
        "symlink points outside the repository (to /etc/passwd); refused",
    ]
    # a link that stays inside the repository is an ordinary file (and the same resource)
    assert [r.name for r in manifests.resources] == ["inside"]


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    error = only_error(load(tmp_path))
    assert "not a regular file" in error.message


def test_non_utf8_points_at_the_bad_byte(tmp_path: Path) -> None:
    write(tmp_path, "latin1.yaml", CONTEXT.encode() + "description: caf\xe9\n".encode("latin-1"))
    error = only_error(load(tmp_path))
    assert error.message == "not valid UTF-8 (byte 0xe9): save the file as UTF-8"
    assert error.position is not None and (error.position.line, error.position.column) == (11, 17)


def test_utf8_bom_is_accepted_and_utf16_refused(tmp_path: Path) -> None:
    write(tmp_path, "bom.yaml", b"\xef\xbb\xbf" + CONTEXT.encode())
    assert load(tmp_path).ok
    write(tmp_path, "utf16.yaml", CONTEXT.encode("utf-16"))
    assert only_error(load(tmp_path)).message == "file is UTF-16: save it as UTF-8"


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    error = only_error(load(tmp_path / "nope"))
    assert "no such file or directory" in error.message


def test_other_kinds_are_skipped_with_a_warning(tmp_path: Path) -> None:
    write(
        tmp_path,
        "others.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {token: c2VjcmV0}\n---\n"
        "apiVersion: gravitee.io/v1alpha1\nkind: Subscription\nmetadata: {name: sub}\nspec: {}\n",
    )
    manifests = load(tmp_path)
    assert manifests.ok and not manifests.resources
    assert [(w.position.line if w.position else 0, w.message) for w in manifests.warnings] == [
        (2, "skipped v1/ConfigMap: not a resource that apim-reconciler reconciles"),
        (7, "skipped v1/Secret: not a resource that apim-reconciler reconciles"),
        (
            9,
            "a Secret with inline data: secrets do not belong in git; mount them in the secrets directory "
            "or pass them as environment variables",
        ),
        (12, "skipped Subscription: apim-reconciler does not reconcile this GKO kind yet"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "a manifest must be a mapping with apiVersion, kind and metadata"),
        ("kind: ApiV4Definition\n", "missing apiVersion"),
        ("apiVersion: gravitee.io/v1alpha1\n", "missing kind"),
        (
            "apiVersion: v2\nname: chart\nversion: 1.0.0\n",  # a Helm Chart.yaml
            "missing kind; if this file is not a manifest (Helm values, a Chart.yaml), list it in a "
            ".sourceignore file",
        ),
        (
            "replicaCount: 1\nimage:\n  repository: nginx\n",  # a Helm values.yaml
            "no apiVersion and no kind; if this file is not a manifest (Helm values, a Chart.yaml), list "
            "it in a .sourceignore file",
        ),
    ],
)
def test_documents_that_are_not_manifests(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "odd.yaml", text)
    assert only_error(load(tmp_path)).message == message


def test_api_without_context_ref_is_left_alone_with_a_warning(tmp_path: Path) -> None:
    text = api_v4("local").replace("  contextRef:\n    name: ctx\n", "")
    write(tmp_path, "local.yaml", text)
    manifests = load(tmp_path)
    assert manifests.ok
    (warning,) = manifests.warnings
    assert warning.severity is Severity.WARNING and "no spec.contextRef" in warning.message


def test_one_bad_file_does_not_hide_the_others(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "a: [")
    write(tmp_path, "b.yaml", CONTEXT)
    write(tmp_path, "c.yaml", "b: *x\n")
    manifests = load(tmp_path)
    assert [e.position.file if e.position else None for e in manifests.errors] == [
        str(tmp_path / "a.yaml"),
        str(tmp_path / "c.yaml"),
    ]
    assert [r.name for r in manifests.resources] == ["ctx"]


def test_a_repository_without_manifests_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# nothing here")
    assert only_error(load(tmp_path)).message == f"no *.yaml or *.yml manifest files under {tmp_path}"


def test_unknown_gravitee_kind_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    write(
        tmp_path, "typo.yaml", "apiVersion: gravitee.io/v1alpha1\nkind: ApiV4Definiton\nmetadata: {name: x}\n"
    )
    error = only_error(load(tmp_path))
    assert (
        error.message
        == "unknown kind 'ApiV4Definiton' for gravitee.io/v1alpha1; did you mean 'ApiV4Definition'?"
    )
    assert error.position is not None and error.position.line == 2
