"""Stopping a sync part-way (a signal, the sync's deadline) and still knowing what it did.

`Stop` is set once, with the reason; the engine checks it between phases and the executor before
each write, so that a stopped sync starts nothing new, lets the requests in flight finish for a short
grace period, and reports what was applied, what failed, and what was not run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")

GRACE_PERIOD = 10.0
"""Seconds that the writes in flight get to finish once a sync is stopped (well inside the 30 s that
Kubernetes allows between SIGTERM and SIGKILL)."""


class Interrupted(Exception):
    """The sync was stopped before this phase ended; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Stop:
    """A one-way switch with a reason: `set` it from a signal handler or a timer."""

    def __init__(self, grace_period: float = GRACE_PERIOD) -> None:
        self.grace_period = grace_period
        self.reason: str | None = None
        self.signal: int | None = None
        self._event = asyncio.Event()

    def set(self, reason: str, *, signal: int | None = None) -> None:
        if self.reason is None:  # the first reason is the one reported
            self.reason, self.signal = reason, signal
            self._event.set()

    def is_set(self) -> bool:
        return self.reason is not None

    async def run(self, awaitable: Awaitable[T]) -> T:
        """`awaitable`'s result, or Interrupted (after cancelling it) if the stop comes first."""
        task = asyncio.ensure_future(awaitable)
        await self._until_done_or_stopped(task)
        if task.done():
            return task.result()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise Interrupted(self.reason or "interrupted")

    async def finish(self, awaitable: Awaitable[T]) -> T:
        """`awaitable`'s result; once stopped, it gets the grace period, then it is cancelled (one that
        returns what it did when cancelled, like the executor, still gives its result)."""
        task = asyncio.ensure_future(awaitable)
        await self._until_done_or_stopped(task)
        if not task.done():
            await self._wait(task, timeout=self.grace_period)
        if not task.done():
            task.cancel()
        return await task

    async def _until_done_or_stopped(self, task: asyncio.Future[T]) -> None:
        if self.is_set():
            return
        waiter = asyncio.ensure_future(self._event.wait())
        try:
            await self._wait(task, waiter)
        finally:
            waiter.cancel()

    @staticmethod
    async def _wait(
        task: asyncio.Future[T], *others: asyncio.Future[Any], timeout: float | None = None
    ) -> None:
        """Wait for the first to finish; if our caller is cancelled meanwhile, so is `task`."""
        try:
            await asyncio.wait({task, *others}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            task.cancel()
            raise
