"""A progress bar on a terminal's stderr while a large plan is applied (never in a pipe or a log)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

MIN_ACTIONS = 20
"""Below this, a plan applies in a blink and a bar would only flicker."""
WIDTH = 30


def progress_bar(stream: TextIO) -> Callable[[int, int], None]:
    """A callback for `reconcile(progress=...)` drawing `[#####.....] 12/40` in place."""

    def draw(done: int, total: int) -> None:
        if total < MIN_ACTIONS:
            return
        filled = WIDTH * done // total
        stream.write(f"\r[{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total}")
        if done == total:
            stream.write("\r" + " " * (WIDTH + 24) + "\r")
        stream.flush()

    return draw
