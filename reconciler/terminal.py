"""Whether a stream gets colour: only a terminal does, and none at all when ``NO_COLOR`` is set.

``NO_COLOR`` (https://no-color.org) turns colour off when it is present and not empty, whatever the
stream; a pipe, a file or a CI log never gets escape codes. The colours themselves are a few SGR
codes in reconciler/report/text.py, and the progress bar is reconciler/report/progress.py: why they
are ours and not rich's (issue 21) is at the top of that module, with numbers. A leaf: the CLI's
reports and the logs (reconciler/logs.py) both ask it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO


def wants_colour(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """True when `stream` is a terminal and ``NO_COLOR`` is unset or empty."""
    return not environ.get("NO_COLOR") and stream.isatty()
