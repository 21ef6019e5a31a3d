"""The kinds we reconcile, one module each; `kind(name)` is the one lookup everything else uses.

Adding a kind is one module here, its schema (schemas/<Kind>.json), its emulator handler and its
tests, plus its name in `KINDS` below. The module must provide one `KIND = Kind(...)` (base.py says
what each field means):

* `name` (the manifest's `kind`, the schema's name), `remote` (which APIM object), `level` (its
  place in the write and delete order), `endpoints` (`AutomationEndpoints(collection)` or another
  `Endpoints` shape, turned into requests by apply/ and export/);
* `fields`: what APIM echoes, assigns, keeps write-only or state-only, per child collection too,
  and which lists are keyed (drift is compared on these: plan/normalise.py);
* `build_body(resource, hrid, environment_id) -> BuiltBody`: its desired body, GKO's defaults
  applied (plan/desired.py calls it); pure, and of the planner it may use only the leaves
  (plan.defaults, plan.ids, plan.ownership, plan.canonical: tests/test_layers.py);
* `gko_defaults` and `server_defaults` (`plan.defaults.Rules`: the CRD's defaults, from
  plan/crd_defaults.py which `python -m scripts.crd_defaults` generates from GKO's CRDs, and what
  APIM fills in);
* `export_spec(state, target) -> ExportedSpec`: its export mapping, the inverse of `build_body`
  (kinds/exports.py has what the mappings share), `exported` (the spec fields it writes, in order),
  `folder` (where export writes it) and `noun` (what people call one);
* `reads_full_state`, `listing` (what reading it costs, for the README), and where they apply
  `definition_version` and `has_hrid` (API kinds), `update_body`, `archived_status`,
  `written_as_lists`, `listed_by_id`.
"""

from reconciler.kinds import api_v2, api_v4, application
from reconciler.kinds.base import AutomationEndpoints, Kind, RemoteKind

KINDS: tuple[Kind, ...] = (api_v4.KIND, api_v2.KIND, application.KIND)
_BY_NAME = {k.name: k for k in KINDS}
MANAGED_KINDS: tuple[str, ...] = tuple(k.name for k in KINDS)


def kind(name: str) -> Kind:
    """The `Kind` of a managed manifest kind; KeyError for any other."""
    return _BY_NAME[name]


def named_or_remote(name: str, remote: RemoteKind) -> Kind:
    """The kind of this name; for a name we do not manage (a record written by another version),
    the first kind of the same APIM object, so that it is still ordered with its peers."""
    return _BY_NAME.get(name) or next(k for k in KINDS if k.remote is remote)


def api_kind(definition_version: object) -> Kind | None:
    """The kind of an API that APIM lists with this `definitionVersion`; None for a version no kind
    manages (FEDERATED...)."""
    return next(
        (k for k in KINDS if k.remote is RemoteKind.API and k.definition_version == definition_version), None
    )


def full_reader(remote: RemoteKind) -> Kind:
    """The kind whose endpoints read the full state of this APIM object (v4 APIs, applications)."""
    return next(k for k in KINDS if k.remote is remote and k.reads_full_state)


def phase(name: str, *, deleting: bool) -> int:
    """The phase of a write or deletion of this kind: every write before any deletion, writes by
    increasing level, deletions by decreasing level (dependants go first)."""
    top = max(k.level for k in KINDS)
    level = _BY_NAME[name].level
    return top + 1 + (top - level) if deleting else level


PHASES = range(2 * (max(k.level for k in KINDS) + 1))

__all__ = [
    "KINDS",
    "MANAGED_KINDS",
    "PHASES",
    "AutomationEndpoints",
    "RemoteKind",
    "api_kind",
    "full_reader",
    "kind",
    "named_or_remote",
    "phase",
]
