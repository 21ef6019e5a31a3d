"""``python -m reconciler.emulator``: run the APIM emulator in the foreground."""

import sys

from .cli import main

sys.exit(main())
