"""Planning: manifests -> desired state -> (with APIM's actual state) -> a Plan. Pure: no I/O, no clock.

Import the submodules themselves; this package re-exports nothing, because the kind modules
(reconciler/kinds/) build bodies with the planner's leaf modules (defaults, ids, ownership), and a
package that imported the whole planner on the way would import the kinds back (a cycle). The sync
engine and CLI use:

* `desired.build_desired(resources)` -> `DesiredBuild(states, problems)`
* `state.RemoteSummary.from_mapi_v2_api(item)` / `RemoteSummary.from_application(item)` for listings
* `planner.reads_needed(states, summaries, options)` -> the `ReadRequest`s to GET from the Automation API
* `planner.make_plan(states, summaries, full_states, options, placement=...)` -> `model.Plan` (contexts
  that could not be read are left out by the engine before planning: nothing is planned, or pruned, blind)
* `model.Action.request_body(applied_at)` -> the body to PUT, with our ownership record
"""
