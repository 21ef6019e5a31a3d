"""The command line: one module per command (decK's `cmd/` shape), shared options in `options`.

Only this package parses arguments; every command is a thin shell over the core packages.
"""

from reconciler.cli.main import build_parser, main
from reconciler.cli.parser import env_name

__all__ = ["build_parser", "env_name", "main"]
