from reconciler.manifests.hrid import key_hrid, resource_hrid
from reconciler.plan import ids


def test_java_name_uuid_test_vector() -> None:
    assert ids.name_uuid("DEFAULT" + "default-my-api") == "b54c45d2-1e4f-3330-aa2d-9c931c795b92"


def test_not_python_uuid3() -> None:
    import uuid

    assert ids.name_uuid("x") != str(uuid.uuid3(uuid.NAMESPACE_DNS, "x"))
    assert ids.name_uuid("x")[14] == "3"  # version 3
    assert ids.name_uuid("x")[19] in "89ab"  # IETF variant


def test_derived_ids_chain() -> None:
    cross = ids.cross_id("DEFAULT", "default-my-api")
    assert cross == "b54c45d2-1e4f-3330-aa2d-9c931c795b92"
    assert ids.api_id("DEFAULT", "DEFAULT", "default-my-api") == ids.name_uuid(cross + "DEFAULT")
    assert ids.application_id("DEFAULT", "DEFAULT", "default-app") == ids.name_uuid(
        ids.name_uuid("DEFAULTdefault-app") + "DEFAULT"
    )
    assert ids.plan_id("DEFAULT", "DEFAULT", "default-my-api", "KeyLess") == ids.name_uuid(
        cross + "DEFAULT" + "KeyLess"
    )
    assert ids.plan_cross_id("DEFAULT", "default-my-api", "KeyLess") == ids.name_uuid(cross + "KeyLess")


def test_hrid_is_namespace_dash_name() -> None:
    assert resource_hrid("default", "my-api") == "default-my-api"
    assert resource_hrid("team-a", "orders") == "team-a-orders"


def test_plan_and_page_keys_become_hrids() -> None:
    assert key_hrid("JWT Plan. With A Non Hrid Names") == "JWT-Plan--With-A-Non-Hrid-Names"
    assert key_hrid("v1.2 docs") == "v1-2-docs"
    assert key_hrid("KeyLess") == "KeyLess"
