"""Where the shared reference material (APIM specs, GKO CRDs and examples) is: beside the clone."""

from __future__ import annotations

import os
from pathlib import Path

_BESIDE_THE_CLONE = Path(__file__).resolve().parents[2] / "shared" / "reference"

REFERENCE = Path(os.environ.get("APIM_RECONCILER_REFERENCE", _BESIDE_THE_CLONE))
OPENAPI_DIR = Path(os.environ.get("APIM_OPENAPI_DIR", REFERENCE / "apim-openapi"))
GKO_EXAMPLES = REFERENCE / "gko-examples"
