"""What a kind is, for everything after loading: where it lives in APIM and how it is reached.

One `Kind` value per manifest kind (one module each in this package) holds the facts that the
planner, the executor and the readers would otherwise each keep: which APIM object it is, in which
order it is written and deleted, through which endpoints, and what reading it costs. Pure data: no
module here does I/O, so the planner may use it; the executor turns `Endpoints` into requests.
The fields are APIM's Automation API schemas as the server's mappers apply them (for v4 APIs
`ApiV4Spec`/`ApiV4State`, for applications `ApplicationSpec`/`ApplicationState`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.kinds.bodies import BuiltBody
    from reconciler.kinds.exports import ExportedSpec, ExportTarget
    from reconciler.manifests.model import Resource
    from reconciler.plan.defaults import Rules

BodyBuilder = Callable[["Resource", str, str], "BuiltBody"]
"""`(resource, hrid, environment_id) -> BuiltBody`: a manifest's spec as the exact body sent to APIM,
GKO's defaults applied (the resource's templates are already resolved)."""

UpdateBody = Callable[[Mapping[str, Any], Mapping[str, Any] | None, str, str | None], dict[str, Any]]
"""`(desired body, APIM's state or None, APIM's id, APIM's crossId) -> the body of an update`."""

ExportMapper = Callable[[Mapping[str, Any], "ExportTarget"], "ExportedSpec"]
"""`(state, target) -> ExportedSpec`: what APIM returns for one object as the spec of the manifest
that gives it back, the inverse of the body builder (kinds/exports.py)."""


class RemoteKind(StrEnum):
    """What a resource is in APIM; v2 and v4 APIs share one listing, applications have theirs."""

    API = "API"
    APPLICATION = "APPLICATION"


@dataclass(frozen=True, slots=True)
class AutomationEndpoints:
    """The Automation API's shape, the same for every kind it has: `PUT {env}/{collection}` with the
    spec (an upsert keyed by its `hrid`, `dryRun` honoured), `GET` and `DELETE {env}/{collection}/{hrid}`."""

    collection: str


@dataclass(frozen=True, slots=True)
class MapiV1ImportEndpoints:
    """A v2 API, the way GKO writes it: mAPI v1 `PUT .../apis/import-crd` (keyed by the ids in the
    body), found by its id, deleted by its id with `closePlans=true`."""


Endpoints = AutomationEndpoints | MapiV1ImportEndpoints


@dataclass(frozen=True, slots=True)
class Fields:
    """Which fields of the body APIM keeps, echoes and assigns: what drift is compared on (plan/
    normalise.py) and what a body may carry (plan/desired.py)."""

    echoed: frozenset[str] | None
    """The top-level fields that APIM's state echoes, and so the only ones compared; None when the
    state has no schema to project on (a v2 CRD spec): then everything but `assigned` is compared."""
    assigned: frozenset[str] = frozenset()
    """What APIM assigns itself (ids, dates, owner): never compared."""
    write_only: frozenset[str] = frozenset()
    """Sent, never echoed (`notifyMembers`)."""
    children_echoed: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per collection of children (plans, pages): the fields their states echo."""
    children_assigned: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per collection of children: what APIM assigns them, dropped before comparing."""
    state_only: frozenset[str] = frozenset()
    """What APIM's state (or its export) carries that a manifest must not: ids, dates, owner,
    bookkeeping; `export` leaves it out and reports nothing about it."""
    children_state_only: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """The same, per collection of children."""
    keyed_by: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Lists whose order carries no meaning, compared as maps keyed by the first of these fields
    that an item has (a v4 API's plans by HRID, a v2 API's by name, or id)."""
    normalised_by_server: bool = False
    """Whether APIM normalises what it stores (trailing `/` on paths, enum case, defaults: see
    docs/emulator-fidelity.md), so that both sides are compared in that stored form."""


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    """The manifest's `kind`, and the name of its JSON Schema (schemas/<name>.json)."""
    remote: RemoteKind
    level: int
    """Its place in the dependency order: writes go by increasing level (what others refer to goes
    first), deletions by decreasing level after every write."""
    endpoints: Endpoints
    fields: Fields
    folder: str
    """Where `export` writes its manifests, under the output folder."""
    reads_full_state: bool
    """Whether its full state can be read from APIM to detect drift beyond what the listing shows
    (a v2 API cannot: the Automation API has no v2, so it is planned from the listing alone)."""
    listing: str
    """How the objects of the environment are found, and what that costs per sync (README)."""
    build_body: BodyBuilder
    """Its desired-body builder (plan/desired.py calls it for every manifest of the kind)."""
    gko_defaults: Rules
    """GKO's defaults (its CRD's, as the Kubernetes API server fills them in), applied to the spec
    before the body is built (plan/defaults.py says how rules are written)."""
    server_defaults: Rules
    """What APIM fills in and echoes, filled into both sides before comparing (plan/normalise.py)."""
    exported: tuple[str, ...]
    """The spec fields `export` writes from APIM's state, in the order they are written."""
    export_spec: ExportMapper
    """Its export mapping: APIM's state of one object -> the manifest spec that plans no change."""
    noun: str
    """What people call one of them in a sentence ("API", "application")."""
    definition_version: str | None = None
    """For an API kind, the `definitionVersion` by which the API listing tells it from its peers."""
    has_hrid: bool = True
    """Whether APIM keeps the HRID it is found by (a v2 API has none: it is found by its crossId)."""
    written_as_lists: frozenset[str] = frozenset()
    """Collections (beyond metadata and members) that a manifest writes as a list whose items are
    found by identity (a v2 API's plans), for pointing a change at its manifest line."""
    listed_by_id: bool = False
    """Whether APIM lists it by id alone (applications), so that the listing needs the id -> HRID
    of each manifest before any body is built."""
    update_body: UpdateBody | None = None
    """For a kind whose update must carry the ids APIM holds (its own and its children's) rather
    than the derived ones, the body of an update: a v2 API's import-crd matches plans by id."""
    archived_status: str | None = None
    """The status of an object that APIM's DELETE archived rather than removed (an application):
    a creation finds it there, and the PUT brings it back."""
