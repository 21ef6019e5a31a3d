"""Notifications of the daemon's syncs: a signed JSON webhook, Slack, Microsoft Teams, commit statuses.

`events` turns a sync's result (or a failed snapshot) into events (pure); `payloads` turns an event
into each target's body (pure); `targets` reads the configuration (URLs and secrets from files,
never printed); `sender` delivers in a background thread from a bounded queue, rate-limited and
retried, so that a slow or dead receiver never holds a sync back. Every body is scrubbed by the one
redactor (`reconciler/secrets/redaction.py`) before it leaves.
"""

from typing import TYPE_CHECKING

from reconciler.lazy import lazy_exports

if TYPE_CHECKING:  # imported on first use (reconciler/lazy.py)
    from reconciler.notify.events import Event, events_of_result, events_of_source_error
    from reconciler.notify.sender import Notifier
    from reconciler.notify.targets import NotifyConfig, NotifyConfigError, Target, build_targets
else:
    __getattr__ = lazy_exports(__name__, __file__)

__all__ = [
    "Event",
    "Notifier",
    "NotifyConfig",
    "NotifyConfigError",
    "Target",
    "build_targets",
    "events_of_result",
    "events_of_source_error",
]
