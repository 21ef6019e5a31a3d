"""Packages whose public names are imported when they are first used, not when the package is.

Importing `reconciler.apim.config` for a flag's default runs `reconciler/apim/__init__.py` first; if
that imported the client, `apim-reconciler --help` would load httpx. So a package's `__init__`
names its exports in an `if TYPE_CHECKING:` block (what mypy and readers see, one line per origin),
and hands the rest to `lazy_exports`:

    if TYPE_CHECKING:
        from reconciler.apim.client import ApimClient
    else:
        __getattr__ = lazy_exports(__name__, __file__)

`from reconciler.apim import ApimClient` then imports `reconciler.apim.client` at that moment. The
block is the one list: `lazy_exports` reads it from the package's source (with `ast`) the first time
a name is missing, and `tests/test_public_lists.py` resolves every name of `__all__`.

A name that is also a submodule's (`reconciler.source.watch`, the function in `watch.py`) cannot be
lazy: importing the submodule sets the package's attribute to the module, and `__getattr__` is never
asked again. Such a name is imported at the end of the `__init__`, after the block.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path


def lazy_exports(package: str, init_file: str) -> Callable[[str], object]:
    """The module `__getattr__` of `package`: each name of its TYPE_CHECKING imports, on first use."""
    origins: dict[str, tuple[str, str]] = {}

    def __getattr__(name: str) -> object:
        if not origins:
            origins.update(_type_checking_imports(Path(init_file)))
        origin = origins.get(name)
        if origin is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = origin
        value = getattr(importlib.import_module(module), attribute)
        setattr(sys.modules[package], name, value)  # once: the next lookup does not come here
        return value

    return __getattr__


def _type_checking_imports(init_file: Path) -> dict[str, tuple[str, str]]:
    """`{name: (module, attribute)}` of the `from X import Y [as Z]` lines under `if TYPE_CHECKING:`."""
    import ast  # only when a name is first used

    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(init_file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
                    for alias in statement.names:
                        found[alias.asname or alias.name] = (statement.module, alias.name)
    return found
