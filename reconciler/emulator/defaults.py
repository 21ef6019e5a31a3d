"""The defaults and choices of the emulator's flags, in a leaf: `apim-reconciler --help` builds the
`emulator` command's flags, and need not define the emulator's classes (nor import `dataclasses`) for it.
"""

NEWEST = "4.13.0"
"""The APIM release played unless `--apim-version` names another (`versions` knows them all)."""
REPOSITORIES = ("jdbc", "mongodb")
"""The management repositories the emulator can play (`--repository`)."""
