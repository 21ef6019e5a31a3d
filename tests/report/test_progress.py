"""The progress bar draws in place, only for large plans, and clears itself at the end."""

from __future__ import annotations

import io

from reconciler.report.progress import MIN_ACTIONS, progress_bar


def test_small_plans_draw_nothing() -> None:
    stream = io.StringIO()
    draw = progress_bar(stream)
    for done in range(1, MIN_ACTIONS):
        draw(done, MIN_ACTIONS - 1)
    assert stream.getvalue() == ""


def test_large_plans_draw_in_place_and_clear() -> None:
    stream = io.StringIO()
    draw = progress_bar(stream)
    draw(20, 40)
    assert stream.getvalue() == "\r[###############...............] 20/40"
    draw(40, 40)
    assert stream.getvalue().endswith("\r")
    assert "40/40" in stream.getvalue()
