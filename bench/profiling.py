"""Reading pyinstrument sessions: the functions where the CPU time goes (self time, summed per function)."""

from __future__ import annotations

from collections import Counter
from typing import Any


def _walk(frame: Any, parent: Any, totals: Counter[str], ours: Counter[str]) -> None:
    if frame.is_synthetic_leaf and parent is not None:
        # "[self]" (or an await/out-of-context leaf): time spent in the parent function itself.
        owner = parent
    elif not frame.children:
        owner = frame
    else:
        owner = None
    if owner is not None and owner.file_path:
        name = f"{owner.function} ({owner.file_path_short}:{owner.line_no})"
        totals[name] += frame.time
        if "/reconciler/" in owner.file_path:
            ours[name] += frame.time
    for child in frame.children:
        _walk(child, frame, totals, ours)


def top_frames(session: Any, count: int = 5) -> dict[str, list[list[Any]]]:
    """The `count` functions with the most self time, overall and among ours (reconciler/)."""
    totals: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    root = session.root_frame()
    if root is not None:
        _walk(root, None, totals, ours)
    duration = session.duration or 1.0
    return {
        "all": [[name, round(t, 3), round(100 * t / duration, 1)] for name, t in totals.most_common(count)],
        "ours": [[name, round(t, 3), round(100 * t / duration, 1)] for name, t in ours.most_common(count)],
        "ours_total_s": [[round(sum(ours.values()), 3)]],
    }
