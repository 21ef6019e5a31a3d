"""One test per normalisation rule: each is a way APIM echoes a body differently from how it was sent."""

from __future__ import annotations

from typing import Any

from reconciler.kinds.bodies import metadata_key
from reconciler.plan.diff import diff
from reconciler.plan.normalise import comparable

V4 = "ApiV4Definition"
APP = "Application"
V2 = "ApiDefinition"


def _same(kind: str, desired: dict[str, Any], actual: dict[str, Any]) -> bool:
    return diff(comparable(kind, desired), comparable(kind, actual)) == ()


def test_server_assigned_fields_are_ignored() -> None:
    actual = {
        "hrid": "h",
        "id": "1",
        "crossId": "2",
        "environmentId": "E",
        "organizationId": "O",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-02T00:00:00Z",
        "deployedAt": "2026-01-02T00:00:00Z",
        "primaryOwner": {"id": "u"},
        "errors": {"warning": ["w"]},
        "plans": [{"hrid": "p", "id": "plan-uuid", "crossId": "x", "name": "P"}],
        "pages": [{"hrid": "doc", "id": "page-uuid", "crossId": "y", "name": "Doc", "type": "MARKDOWN"}],
    }
    desired = {
        "hrid": "h",
        "plans": [{"hrid": "p", "name": "P"}],
        "pages": [{"hrid": "doc", "name": "Doc", "type": "MARKDOWN"}],
    }
    assert _same(V4, desired, actual)


def test_v2_server_assigned_fields_are_ignored() -> None:
    desired = {"name": "a", "plans": [{"name": "free"}]}
    actual = {
        "name": "a",
        "id": "1",
        "crossId": "2",
        "deployedAt": 1,
        "plans": [{"name": "free", "id": "p", "api": "1"}],
    }
    assert _same(V2, desired, actual)


def test_write_only_fields_are_ignored() -> None:
    desired = {"hrid": "h", "notifyMembers": True, "definitionContext": {"origin": "KUBERNETES"}}
    assert _same(V4, desired, {"hrid": "h"})
    assert _same(APP, {"hrid": "a", "notifyMembers": True}, {"hrid": "a"})


def test_server_defaults_equal_missing() -> None:
    desired = {
        "hrid": "h",
        "endpointGroups": [{"type": "http-proxy", "endpoints": [{"name": "e"}]}],
        "flows": [{"name": "f"}],
    }
    actual = {
        "hrid": "h",
        "allowedInApiProducts": False,
        "flowExecution": {"mode": "DEFAULT", "matchRequired": False},
        "endpointGroups": [
            {
                "type": "http-proxy",
                "endpoints": [{"name": "e", "weight": 1, "secondary": False, "inheritConfiguration": False}],
            }
        ],
        "flows": [{"name": "f", "enabled": True}],
    }
    assert _same(V4, desired, actual)
    assert _same(APP, {"hrid": "a"}, {"hrid": "a", "status": "ACTIVE"})
    assert not _same(APP, {"hrid": "a"}, {"hrid": "a", "status": "ARCHIVED"})


def test_empty_collections_equal_missing() -> None:
    assert _same(V4, {"hrid": "h"}, {"hrid": "h", "tags": [], "properties": [], "responseTemplates": {}})
    assert _same(APP, {"hrid": "a", "settings": {"app": {}}}, {"hrid": "a"})


def test_none_equals_missing() -> None:
    assert _same(V4, {"hrid": "h", "description": None}, {"hrid": "h"})


def test_unordered_lists_are_sorted() -> None:
    desired = {
        "hrid": "h",
        "tags": ["b", "a"],
        "groups": ["g2", "g1"],
        "categories": ["y", "x"],
        "labels": ["2", "1"],
    }
    actual = {
        "hrid": "h",
        "tags": ["a", "b"],
        "groups": ["g1", "g2"],
        "categories": ["x", "y"],
        "labels": ["1", "2"],
    }
    assert _same(V4, desired, actual)


def test_ordered_lists_stay_ordered() -> None:
    desired = {"hrid": "h", "flows": [{"name": "1"}, {"name": "2"}]}
    actual = {"hrid": "h", "flows": [{"name": "2"}, {"name": "1"}]}
    assert not _same(V4, desired, actual)


def test_plans_and_pages_compare_by_hrid_not_position() -> None:
    desired = {"hrid": "h", "plans": [{"hrid": "a", "name": "A"}, {"hrid": "b", "name": "B"}]}
    actual = {"hrid": "h", "plans": [{"hrid": "b", "name": "B"}, {"hrid": "a", "name": "A"}]}
    assert _same(V4, desired, actual)
    changes = diff(
        comparable(V4, desired), comparable(V4, {"hrid": "h", "plans": [{"hrid": "a", "name": "X"}]})
    )
    assert [c.path_text for c in changes] == ["plans.a.name", "plans.b"]


def test_members_compare_by_source_and_source_id() -> None:
    m1 = {"source": "memory", "sourceId": "admin", "role": "OWNER"}
    m2 = {"source": "gravitee", "sourceId": "bob", "role": "USER"}
    assert _same(APP, {"hrid": "a", "members": [m1, m2]}, {"hrid": "a", "members": [m2, m1]})


def test_metadata_compares_by_key_derived_from_name() -> None:
    desired = {"hrid": "h", "metadata": [{"name": "Build Version", "format": "STRING", "value": "1"}]}
    actual = {
        "hrid": "h",
        "metadata": [{"key": "build-version", "name": "Build Version", "format": "STRING", "value": "1"}],
    }
    assert _same(V4, desired, actual)
    assert metadata_key(" Build.Version 2 ") == "build-version-2"


def test_ownership_entry_is_hidden() -> None:
    record = {"key": "apim-reconciler", "name": "apim-reconciler", "format": "STRING", "value": "{}"}
    assert _same(V4, {"hrid": "h"}, {"hrid": "h", "metadata": [record]})


def test_names_descriptions_versions_are_trimmed() -> None:
    desired = {"hrid": "h", "name": " My API ", "description": "text\n", "version": "1.0 "}
    assert _same(V4, desired, {"hrid": "h", "name": "My API", "description": "text", "version": "1.0"})


def test_plugin_configuration_is_not_trimmed_or_sorted() -> None:
    desired = {
        "hrid": "h",
        "resources": [{"name": "r", "configuration": {"name": " x ", "tags": ["b", "a"]}}],
    }
    actual = {"hrid": "h", "resources": [{"name": "r", "configuration": {"name": "x", "tags": ["a", "b"]}}]}
    paths = {c.path_text for c in diff(comparable(V4, desired), comparable(V4, actual))}
    assert paths == {
        "resources[0].configuration.name",
        "resources[0].configuration.tags[0]",
        "resources[0].configuration.tags[1]",
    }


def test_times_compare_as_instants() -> None:
    cert = {"name": "c", "content": "pem"}
    desired = {
        "hrid": "a",
        "settings": {"tls": {"clientCertificates": [{**cert, "endsAt": "2027-01-01T01:00:00+01:00"}]}},
    }
    actual = {
        "hrid": "a",
        "settings": {"tls": {"clientCertificates": [{**cert, "endsAt": "2027-01-01T00:00:00.000Z"}]}},
    }
    assert _same(APP, desired, actual)


def test_fields_apim_does_not_take_are_not_compared() -> None:
    assert _same(V4, {"hrid": "h"}, {"hrid": "h", "definitionVersion": "V4", "somethingNew": 1})


def test_a_real_difference_is_still_found() -> None:
    assert not _same(V4, {"hrid": "h", "tags": ["a"]}, {"hrid": "h", "tags": ["a", "b"]})
    assert not _same(V4, {"hrid": "h", "visibility": "PUBLIC"}, {"hrid": "h"})
