"""Exit codes shared by every command, so that CI scripts can branch on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    CHANGES_PENDING = 2
    USAGE = 64
