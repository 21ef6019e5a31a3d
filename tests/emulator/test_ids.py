from reconciler.emulator import ids


def test_java_name_uuid_vector() -> None:
    assert ids.name_uuid("DEFAULT" + "default-my-api") == "b54c45d2-1e4f-3330-aa2d-9c931c795b92"


def test_derivations_compose() -> None:
    cross = ids.api_cross_id("DEFAULT", "default-my-api")
    assert ids.api_id("DEFAULT", "DEFAULT", "default-my-api") == ids.name_uuid(cross + "DEFAULT")
    base = ids.name_uuid("DEFAULT" + "default-my-api")
    assert ids.plan_id("DEFAULT", "DEFAULT", "default-my-api", "keyless") == ids.name_uuid(
        base + "DEFAULT" + "keyless"
    )
    assert ids.plan_cross_id("DEFAULT", "default-my-api", "keyless") == ids.name_uuid(base + "keyless")
    assert ids.application_id("DEFAULT", "DEFAULT", "app") == ids.name_uuid(
        ids.name_uuid("DEFAULTapp") + "DEFAULT"
    )
