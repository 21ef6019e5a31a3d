"""Load a repository of manifests: files → YAML documents → resources, with every problem found."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reconciler.defaults import DEFAULT_MAX_FILE_SIZE
from reconciler.manifests.baseurl import check_context_urls
from reconciler.manifests.crosscheck import cross_check
from reconciler.manifests.documents import to_resource
from reconciler.manifests.files import discover, read_text
from reconciler.manifests.ignore import IGNORE_FILE
from reconciler.manifests.lists import Item, expand
from reconciler.manifests.model import DEFAULT_NAMESPACE, ManifestSet, Position, Problem, Resource, Severity
from reconciler.manifests.yamlparse import YamlError, parse_documents


@dataclass(frozen=True)
class LoadOptions:
    default_namespace: str = DEFAULT_NAMESPACE
    max_file_size: int = DEFAULT_MAX_FILE_SIZE


def load_manifests(
    paths: Iterable[str | Path], options: LoadOptions = LoadOptions(), *, repository: Path | None = None
) -> ManifestSet:
    """Everything under `paths`, validated against the schemas and checked across files.

    `repository`: the repository a folder given is inside (a checkout read under `--path`), whose
    `.sourceignore` files above that folder apply too."""
    paths = list(paths)
    ignored: list[str] = []
    sources, problems = discover(paths, repository=repository, ignored=ignored)
    ignored.sort()
    if ignored:
        problems.append(_ignored_warning(ignored))
    if not sources and not problems:
        where = ", ".join(str(p) for p in paths)
        problems.append(Problem(Severity.ERROR, f"no *.yaml or *.yml manifest files under {where}"))
    resources: list[Resource] = []
    strings: dict[str, str] = {}  # short strings shared by every document of this load
    for source in sources:
        content = read_text(source, options.max_file_size)
        if isinstance(content, Problem):
            problems.append(content)
            continue
        try:
            for document in parse_documents(content.text, source.display, content.data, strings):
                problems.extend(
                    Problem(Severity.WARNING, w.message, Position(source.display, w.line, w.column))
                    for w in document.warnings
                )
                whole = Item(document.body, document.positions, document.nulls)
                for item in expand(whole, problems):
                    resource, found = to_resource(
                        item.body, item.positions, options.default_namespace, item.nulls
                    )
                    problems.extend(found)
                    if resource is not None:
                        resources.append(resource)
        except YamlError as exc:
            problems.append(
                Problem(Severity.ERROR, exc.message, Position(source.display, exc.line, exc.column))
            )
    problems.extend(cross_check(resources))
    problems.extend(check_context_urls(resources))
    return ManifestSet(
        tuple(resources), tuple(sorted(problems, key=Problem.sort_key)), len(sources), tuple(ignored)
    )


SHOWN_IGNORED = 10


def _ignored_warning(ignored: list[str]) -> Problem:
    """One warning per load for what was not read: never a silent gap where manifests could be."""
    count = len(ignored)
    names = ", ".join(ignored[:SHOWN_IGNORED]) + (
        f" and {count - SHOWN_IGNORED} more" if count > SHOWN_IGNORED else ""
    )
    return Problem(
        Severity.WARNING,
        f"{count} path{'s' if count != 1 else ''} not read ({IGNORE_FILE} or Flux's default exclusions): "
        f"{names}; resources written there are not in the desired state, and their APIM objects are "
        "pruned like any other resource that left the repository (prune guards apply)",
    )
