"""Planning: manifests -> desired state -> (with APIM's actual state) -> a Plan. Pure: no I/O, no clock.

The apply engine and CLI use:

* `build_desired(resources)` -> `DesiredBuild(states, problems)`
* `RemoteSummary.from_mapi_v2_api(item)` / `RemoteSummary.from_application(item)` for listings
* `reads_needed(states, summaries, options)` -> the `ReadRequest`s to GET from the Automation API
* `make_plan(states, summaries, full_states, options, placement=...)` -> `Plan` (contexts that could not be read are left out by the engine before planning: nothing is planned, or pruned, blind)
* `Action.request_body(applied_at)` -> the body to PUT, with our ownership record
"""

from reconciler.kinds import RemoteKind
from reconciler.plan.desired import DesiredResource, DesiredState, build_desired
from reconciler.plan.diff import ChangeOp, FieldChange
from reconciler.plan.model import Action, ActionKind, Outcome, Plan, PlanOptions
from reconciler.plan.planner import make_plan, reads_needed
from reconciler.plan.state import RemoteSummary

__all__ = [
    "Action",
    "ActionKind",
    "ChangeOp",
    "DesiredResource",
    "DesiredState",
    "FieldChange",
    "Outcome",
    "Plan",
    "PlanOptions",
    "RemoteKind",
    "RemoteSummary",
    "build_desired",
    "make_plan",
    "reads_needed",
]
