"""The CRD defaults the planner fills in are exactly GKO's (reconciler/plan/crd_defaults.py is
generated from GKO's CRDs by scripts/crd_defaults.py; this holds it to them)."""

from __future__ import annotations

import pytest

from reconciler.plan.crd_defaults import CRD_DEFAULTS
from scripts.crd_defaults import KINDS, rules, spec_schema
from tests.reference import REFERENCE

CRDS = REFERENCE / "gko-crds"


@pytest.mark.skipif(not CRDS.is_dir(), reason=f"no GKO CRDs at {CRDS}")
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_crd_defaults_are_gkos(kind: str) -> None:
    assert list(CRD_DEFAULTS[kind]) == rules(spec_schema(CRDS / KINDS[kind]))


def test_structural_defaulting_fills_only_where_the_parent_exists() -> None:
    from reconciler.kinds.api_v4 import GKO_DEFAULTS
    from reconciler.plan.defaults import apply_rules

    spec = {
        "plans": {"free": {"name": "Free"}},
        "endpointGroups": [{"name": "g", "endpoints": [{"name": "e"}]}],
    }
    filled = apply_rules(spec, GKO_DEFAULTS)
    assert filled["plans"]["free"]["status"] == "PUBLISHED"  # a map's values (a manifest's plans)
    assert filled["endpointGroups"][0]["endpoints"][0]["secondary"] is False  # a list's items
    assert "failover" not in filled and "http" not in filled["endpointGroups"][0]  # no parent, no default
    assert "status" not in spec["plans"]["free"]  # the manifest itself is left as it was
