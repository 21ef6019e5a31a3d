"""`python -m reconciler` runs the same CLI as the `apim-reconciler` console script."""

import sys

from reconciler.cli import main

sys.exit(main())
