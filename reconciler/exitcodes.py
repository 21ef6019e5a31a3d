"""Exit codes shared by every command, so that CI scripts can branch on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    CHANGES_PENDING = 2
    USAGE = 64
    INTERRUPTED = 130  # SIGINT (Ctrl-C); a SIGTERM gives 143: 128 + the signal's number, as shells do
    TERMINATED = 143

    @staticmethod
    def interrupted_by(signum: int) -> int:
        return 128 + int(signum)
