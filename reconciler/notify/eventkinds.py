"""The four kinds of event, in a leaf: `run --notify-on` offers them when the parser is built (`--help`
builds every command's flags), without the events' classes. `notify.events` re-exports them."""

SYNC_SUCCEEDED = "sync_succeeded"
SYNC_FAILED = "sync_failed"
DRIFT_DETECTED = "drift_detected"
PRUNE_BLOCKED = "prune_blocked"
EVENT_KINDS = (SYNC_SUCCEEDED, SYNC_FAILED, DRIFT_DETECTED, PRUNE_BLOCKED)
