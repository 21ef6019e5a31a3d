"""A progress bar on a terminal's stderr while a large plan is applied (never in a pipe or a log).

Why ours and not rich's (issue 21), measured on 2026-12-04 with rich 15.0.0 in a venv holding only
apim-reconciler's dependencies, on a shared 2-core machine: structlog (already a dependency) imports
``rich.console`` and ``rich.traceback`` (and Pygments) as soon as rich is installed, so the cost lands
on every command's start-up however lazily we would import rich ourselves. `structlog.dev` within
``import reconciler.cli``: 5.4-5.8 ms without rich, 55-60 ms with it (medians of 11 runs, twice);
``apim-reconciler validate samples/`` 684 and 611 ms without, 724 and 663 ms with (medians of 20 runs,
interleaved, twice): 40-52 ms more, over the 30 ms we allowed. What rich would replace: this bar (18 lines of code) and
the dozen SGR codes of reconciler/report/text.py; their import costs 0.3 ms (this module) and 0.8-1.0 ms
(text.py). Colour follows ``NO_COLOR`` and the terminal (reconciler/terminal.py); docs/libraries.md has
the numbers and how to measure them again (`python -m bench.libraries`).
"""

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
