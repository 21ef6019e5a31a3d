"""What one sync saw and did: the result that every report, the daemon's status and its metrics read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.manifests.model import ManifestSet, Problem, ResourceId, Severity
from reconciler.plan.model import Outcome, Plan
from reconciler.sync.deletions import DeletionPolicy
from reconciler.sync.settings import SyncMode


@dataclass(frozen=True)
class ContextFailure:
    """A management context that could not be planned or applied, and why (never a secret)."""

    context: ResourceId
    stage: str
    message: str
    status: int | None = None
    """The HTTP status APIM answered, when it answered (401: the credentials were refused)."""


@dataclass(frozen=True)
class SyncResult:
    commit: str
    mode: SyncMode
    manifests: ManifestSet
    problems: tuple[Problem, ...] = ()
    plan: Plan | None = None
    outcomes: tuple[Outcome, ...] = ()
    failures: tuple[ContextFailure, ...] = ()
    requests: Mapping[str, int] = field(default_factory=dict)
    interrupted: str | None = None
    """Why the sync was stopped before its end (a signal, its deadline); None when it was not."""
    deletions: DeletionPolicy = DeletionPolicy.PRUNE
    """What the sync did about objects that left the repository (reports name it)."""

    @property
    def all_problems(self) -> tuple[Problem, ...]:
        return tuple(sorted((*self.manifests.problems, *self.problems), key=Problem.sort_key))

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.all_problems if p.severity is Severity.ERROR)

    @property
    def failed_outcomes(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def ok(self) -> bool:
        plan_errors = self.plan is not None and self.plan.has_errors
        return not (self.errors or self.failures or self.failed_outcomes or plan_errors or self.interrupted)

    @property
    def has_changes(self) -> bool:
        return self.plan is not None and self.plan.has_changes
