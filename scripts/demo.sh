#!/usr/bin/env bash
# `make demo`: the main job of apim-reconciler on the sample repository.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

echo "== apim-reconciler validate samples/"
"$bin/apim-reconciler" validate samples/
