"""Load a repository of manifests: files → YAML documents → resources, with every problem found."""

from __future__ import annotations

import hashlib
import threading
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


_Parsed = tuple[tuple[Resource, ...], tuple[Problem, ...]]


class LoadCache:
    """What each file gave at the last load: its resources and its own problems, keyed by the file's
    name, the default namespace and a digest of its bytes, so that a daemon re-parses only the files
    a commit changed. The checks across files (`cross_check`, the contexts' URLs) run on every load.

    Each load keeps only the files it saw (a deleted or ignored file is forgotten). Resources are
    immutable once loaded (the plan builds its bodies copy-on-write), so sharing them between loads
    is safe.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[bytes, _Parsed]] = {}
        self._lock = threading.Lock()  # one load at a time (a cancelled sync's thread may still run)
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


def load_manifests(
    paths: Iterable[str | Path],
    options: LoadOptions = LoadOptions(),
    *,
    repository: Path | None = None,
    cache: LoadCache | None = None,
) -> ManifestSet:
    """Everything under `paths`, validated against the schemas and checked across files.

    `repository`: the repository a folder given is inside (a checkout read under `--path`), whose
    `.sourceignore` files above that folder apply too. With `cache`, a file whose name and bytes are
    those of the last load is not parsed again."""
    if cache is None:
        return _load(list(paths), options, repository, None)
    with cache._lock:
        return _load(list(paths), options, repository, cache)


def _load(
    paths: list[str | Path], options: LoadOptions, repository: Path | None, cache: LoadCache | None
) -> ManifestSet:
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
    seen: dict[tuple[str, str], tuple[bytes, _Parsed]] = {}
    for source in sources:
        content = read_text(source, options.max_file_size)
        if isinstance(content, Problem):
            problems.append(content)
            continue
        if cache is None:
            parsed = _parse(source.display, content.text, content.data, options, strings)
        else:
            key = (source.display, options.default_namespace)
            digest = hashlib.blake2b(content.data, digest_size=20).digest()
            entry = cache._entries.get(key)
            if entry is not None and entry[0] == digest:
                cache.hits += 1
                parsed = entry[1]
            else:
                cache.misses += 1
                parsed = _parse(source.display, content.text, content.data, options, strings)
            seen[key] = (digest, parsed)
        resources.extend(parsed[0])
        problems.extend(parsed[1])
    if cache is not None:
        cache._entries = seen
    problems.extend(cross_check(resources))
    problems.extend(check_context_urls(resources))
    return ManifestSet(
        tuple(resources), tuple(sorted(problems, key=Problem.sort_key)), len(sources), tuple(ignored)
    )


def _parse(display: str, text: str, data: bytes, options: LoadOptions, strings: dict[str, str]) -> _Parsed:
    """One file's resources and its own problems (YAML warnings and errors, lists, schema problems)."""
    resources: list[Resource] = []
    problems: list[Problem] = []
    try:
        for document in parse_documents(text, display, data, strings):
            problems.extend(
                Problem(Severity.WARNING, w.message, Position(display, w.line, w.column))
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
        problems.append(Problem(Severity.ERROR, exc.message, Position(display, exc.line, exc.column)))
    return tuple(resources), tuple(problems)


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
