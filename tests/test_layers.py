"""The walls of docs/architecture.md, held by a walk over every module's imports (ast, no import).

A wall that only a document states falls the first time someone is in a hurry: each rule below is
one the architecture relies on, and the test names the module and the import that breaks it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "reconciler"

# What each package may not import: our packages by name, and libraries or stdlib modules that do I/O.
IO_MODULES = ("httpx", "asyncio", "socket", "subprocess", "git", "watchfiles", "urllib.request")
WALLS: dict[str, tuple[str, ...]] = {
    # The planner is pure: values in, a plan out.
    "reconciler.plan": (
        *IO_MODULES,
        "reconciler.sync",
        "reconciler.apim",
        "reconciler.apply",
        "reconciler.cli",
        "reconciler.contexts",
        "reconciler.daemon",
        "reconciler.export",
        "reconciler.identity",
        "reconciler.report",
        "reconciler.source",
    ),
    # The kind registry is data and pure functions: the planner reads it, so it reads nothing that
    # does I/O (and of the planner only its leaves: test_kinds_reach_only_the_planners_leaves).
    "reconciler.kinds": (
        *IO_MODULES,
        "reconciler.apim",
        "reconciler.apply",
        "reconciler.cli",
        "reconciler.daemon",
        "reconciler.export",
        "reconciler.sync",
    ),
    # The HTTP client knows neither manifests nor plans.
    "reconciler.apim": (
        "reconciler.plan",
        "reconciler.manifests",
        "reconciler.apply",
        "reconciler.cli",
        "reconciler.daemon",
        "reconciler.report",
    ),
    # Loading manifests is offline, below everything that plans or connects.
    "reconciler.manifests": (
        *IO_MODULES,
        "reconciler.apim",
        "reconciler.apply",
        "reconciler.cli",
        "reconciler.contexts",
        "reconciler.daemon",
        "reconciler.plan",
        "reconciler.report",
    ),
    # Rendering reads results; it neither connects, nor plans, nor loads the engine for a dataclass.
    "reconciler.report": (
        *IO_MODULES,
        "reconciler.apim",
        "reconciler.apply",
        "reconciler.cli",
        "reconciler.daemon",
        "reconciler.sync.engine",
        "reconciler.sync.run",
    ),
    # The core never reaches up into the shells.
    "reconciler.sync": ("reconciler.cli", "reconciler.daemon", "reconciler.report"),
    "reconciler.apply": ("reconciler.cli", "reconciler.daemon", "reconciler.sync"),
    "reconciler.contexts": ("reconciler.cli", "reconciler.daemon", "reconciler.apply"),
    # Notifications are told about results; they neither sync nor reach up into the daemon.
    "reconciler.notify": ("reconciler.cli", "reconciler.daemon", "reconciler.apply", "reconciler.apim"),
}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield node.lineno, name
            for alias in node.names:  # `from reconciler import apim` imports the package apim
                yield node.lineno, f"{name}.{alias.name}"


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_layers_hold() -> None:
    broken = [
        f"{path.relative_to(ROOT.parent)}:{line}: {module} imports {name} (wall: {package} imports no {wall})"
        for module, path in _modules()
        for package, walls in WALLS.items()
        if _within(module, package)
        for line, name in _imports(module, path)
        for wall in walls
        if _within(name, wall)
    ]
    assert broken == []


def test_the_emulator_imports_nothing_of_ours() -> None:
    """It models the real server; sharing the client's code would let it share the client's mistakes."""
    broken = [
        f"{path.relative_to(ROOT.parent)}:{line}: imports {name}"
        for module, path in _modules()
        if _within(module, "reconciler.emulator")
        for line, name in _imports(module, path)
        if _within(name, "reconciler") and not _within(name, "reconciler.emulator")
    ]
    assert broken == []


# Small modules shared by packages that may not import each other (source and apim share the backoff
# formula; every package imports its exports on first use through `lazy`), and those that hold what the
# flags show, so that building the parser (`--help` builds every command's) loads no package with them
# (issue 20): each imports nothing of ours and does no I/O, or it would carry one package into the other.
LEAVES = (
    "reconciler.backoff",
    "reconciler.lazy",
    "reconciler.defaults",
    "reconciler.manifests.names",
    "reconciler.identity.steps",
    "reconciler.notify.eventkinds",
    "reconciler.emulator.defaults",
)


def test_the_shared_leaves_import_nothing_of_ours() -> None:
    broken = [
        f"{path.relative_to(ROOT.parent)}:{line}: imports {name}"
        for module, path in _modules()
        if module in LEAVES
        for line, name in _imports(module, path)
        if _within(name, "reconciler") or any(_within(name, io) for io in IO_MODULES)
    ]
    assert broken == []
    assert set(LEAVES) <= {module for module, _ in _modules()}


# The planner's modules that a kind module may use to build its body: none of them imports the kinds
# (directly or through another planner module), so kinds -> plan -> kinds cannot form.
PLAN_LEAVES = (
    "reconciler.plan",
    "reconciler.plan.canonical",
    "reconciler.plan.crd_defaults",
    "reconciler.plan.defaults",
    "reconciler.plan.ids",
    "reconciler.plan.ownership",
)


def test_kinds_reach_only_the_planners_leaves() -> None:
    modules = dict(_modules())
    reached = [
        (module, line, name)
        for module, path in modules.items()
        if _within(module, "reconciler.kinds")
        for line, name in _imports(module, path)
        if _within(name, "reconciler.plan")
    ]
    broken = [
        f"{modules[m].relative_to(ROOT.parent)}:{line}: imports {name} (not a planner leaf)"
        for m, line, name in reached
        if name not in PLAN_LEAVES and name.rpartition(".")[0] not in PLAN_LEAVES[1:]
    ]
    broken += [
        f"{modules[leaf].relative_to(ROOT.parent)}:{line}: a planner leaf imports {name}"
        for leaf in PLAN_LEAVES
        for line, name in _imports(leaf, modules[leaf])
        if _within(name, "reconciler.kinds")
        or (
            _within(name, "reconciler.plan")
            and name not in PLAN_LEAVES
            and name.rpartition(".")[0] not in PLAN_LEAVES[1:]
        )
    ]
    assert broken == []
    assert reached, "the kind modules build bodies with the planner's leaves: the walk must see it"


def test_only_the_command_line_parses_arguments() -> None:
    """The emulator's own command line is the one exception: it may import nothing of ours."""
    allowed = ("reconciler.cli", "reconciler.emulator.cli")
    broken = [
        f"{path.relative_to(ROOT.parent)}:{line}"
        for module, path in _modules()
        if not any(_within(module, a) for a in allowed)
        for line, name in _imports(module, path)
        if name == "argparse"
    ]
    assert broken == []


def test_the_walk_sees_imports() -> None:
    """The walk itself: it finds a known import of each form, so an empty list above means something."""
    found = {
        name
        for module, path in _modules()
        if module == "reconciler.cli.main"
        for _, name in _imports(module, path)
    }
    assert {"argparse", "reconciler.cli.parser", "reconciler.cli.parser.attach_env"} <= found
    relative = {
        name
        for module, path in _modules()
        if module == "reconciler.emulator.cli"
        for _, name in _imports(module, path)
    }
    assert "reconciler.emulator.faults" in relative
