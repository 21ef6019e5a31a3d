"""Running a blocking call (git, file reads) off the event loop, on a daemon thread.

``asyncio.to_thread`` uses the default executor, whose threads the interpreter joins at exit: a git
fetch stuck in a worker would then hold a shutdown past ``--shutdown-timeout``. A daemon thread per
call costs nothing at one call per tick, never holds the exit, and gets a copy of the caller's
context variables, so log lines from the worker carry the sync's ``sync_id`` too.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def in_daemon_thread(function: Callable[[], T], *, name: str) -> T:
    """``function()`` on a new daemon thread; its result or exception, in the calling task."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle_result(value: T) -> None:
        if not future.done():
            future.set_result(value)

    def settle_error(error: BaseException) -> None:
        if not future.done():
            future.set_exception(error)

    def work() -> None:
        try:
            value = context.run(function)
        except BaseException as error:
            loop.call_soon_threadsafe(settle_error, error)
        else:
            loop.call_soon_threadsafe(settle_result, value)

    threading.Thread(target=work, name=name, daemon=True).start()
    return await future
