"""Safe YAML parsing that remembers where every field was written.

Speed: ruamel.yaml's round-trip loader tracks lines but runs in pure Python (about 4 ms for a
typical API file). libyaml's composer (ruamel.yaml.clib) builds the node graph in C, and nodes
carry their marks, so we compose in C and turn nodes into plain data ourselves, recording each
field's position on the way: line numbers for every file at close to C speed. Only a file that
fails to parse is parsed again by ruamel's pure-Python loader, whose messages are clearer.

Safety: we construct nothing but JSON-like values (no tags beyond YAML's core schema), bound
nesting depth before libyaml sees the text (its composer recurses in C), and bound the size of
a document after alias expansion, so that a "billion laughs" file is refused at once.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ruamel.yaml
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.manifests.model import JSON, FieldPath, Position, Positions, pack, unpack_line

_CLoader: Any
try:
    with warnings.catch_warnings():
        # ruamel.yaml announces that its C loader is deprecated; it is still the only fast one.
        warnings.simplefilter("ignore")
        from ruamel.yaml.cyaml import CSafeLoader as _CLoader
except ImportError:  # pragma: no cover - without ruamel.yaml.clib we fall back to pure Python
    _CLoader = None

MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences that we accept; GKO manifests need about 15."""

MAX_EXPANDED_NODES = 500_000
"""Largest number of nodes a document may have once aliases are expanded."""

MAX_DOCUMENTS = 10_000
"""Most YAML documents in one file, empty ones included: a file of a million `---` lines takes
minutes to compose, and 10,000 manifests are more than fit in the default file size anyway."""

_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _TAG + "merge"
_FLOW_BRACKETS = re.compile(rb"[\[\]{}]")


class YamlError(ValueError):
    """A file that is not acceptable YAML, with the position of the problem."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class ParsedDocument:
    body: JSON
    positions: Positions
    warnings: tuple[YamlError, ...] = ()
    nulls: tuple[tuple[FieldPath, Position], ...] = ()
    """Fields written as `null` (`~`, or no value at all), which the document leaves out: the API
    server prunes them (no GKO CRD field is nullable), so GKO never sees them. Kept only to point a
    message about a missing field at the line where it was written empty."""


def parse_documents(
    text: str, file: str, data: bytes | None = None, strings: dict[str, str] | None = None
) -> Iterator[ParsedDocument]:
    """Yield every non-empty document of a YAML stream as plain data with field positions.

    `data` is the raw file, when the caller has it, for a cheap pre-scan of flow nesting.
    Raises YamlError on the first problem; documents before it have already been yielded.
    """
    _check_flow_depth(data if data is not None else text.encode("utf-8", "surrogatepass"))
    for count, node in enumerate(_compose_all(text), start=1):
        if count > MAX_DOCUMENTS:
            line = node.start_mark.line + 1 if node is not None else 1
            raise YamlError(f"more than {MAX_DOCUMENTS:,} YAML documents in one file; split it", line)
        if node is None:
            continue
        converter = _Converter(file, strings if strings is not None else {})
        if "&" in text and _has_aliases(node):
            converter.check_expanded_size(node)
        body = converter.convert(node, (), 0)
        document = Position(file, node.start_mark.line + 1, node.start_mark.column + 1)
        if body is None:
            continue
        positions = Positions.packed(file, converter.paths, converter.spots, document)
        nulls = tuple((path, Position(file, line, column)) for path, line, column in converter.nulls)
        yield ParsedDocument(body, positions, tuple(converter.warnings), nulls)


def _compose_all(text: str) -> Iterator[Node | None]:
    if _CLoader is None:
        yield from _compose_all_pure(text)
        return
    loader = _CLoader(text)
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
            except YAMLError as exc:
                # Re-parse in pure Python for its clearer message; it raises the same error.
                yield from _compose_all_pure(text, skip=True)
                if isinstance(exc, MarkedYAMLError):
                    raise _yaml_error(exc) from None
                raise YamlError(f"invalid YAML: {exc}") from None
            yield node
    finally:
        loader.dispose()


def _compose_all_pure(text: str, skip: bool = False) -> Iterator[Node | None]:
    """Compose with ruamel's pure-Python loader; with `skip`, only to raise its error message."""
    yaml = ruamel.yaml.YAML(typ="safe", pure=True)
    try:
        for node in yaml.compose_all(text):
            if not skip:
                yield node
    except MarkedYAMLError as exc:
        raise _yaml_error(exc) from None
    except YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlError(f"nesting deeper than {MAX_DEPTH} levels") from None


def _yaml_error(exc: MarkedYAMLError) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "invalid YAML"
    if "\\t" in repr(problem) or "'\\t'" in problem:
        problem += " (YAML does not allow tabs for indentation)"
    message = f"{exc.context}: {problem}" if exc.context else problem
    if mark is None:
        return YamlError(message)
    return YamlError(message, mark.line + 1, mark.column + 1)


def _check_flow_depth(data: bytes) -> None:
    """Refuse flow nesting that libyaml's recursive composer could not survive.

    Counting brackets is a cheap upper bound; only a file that could exceed the limit pays for
    a scan of running depth (brackets inside quoted strings make that scan err on the safe side).
    """
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return
    depth = 0
    for match in _FLOW_BRACKETS.finditer(data):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                line = data.count(b"\n", 0, match.start()) + 1
                raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", line)
        elif depth:
            depth -= 1


def _has_aliases(root: Node) -> bool:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return False


_CORE_TAGS = frozenset(
    _TAG + name
    for name in ("str", "null", "bool", "int", "float", "timestamp", "binary", "map", "seq", "merge")
)


def _tag(node: Node) -> str:
    # Hot path: libyaml hands over resolved tags as plain strings; Node.tag would rebuild one each time.
    tag = node.ctag
    if tag.handle is None and tag.suffix in _CORE_TAGS:
        return str(tag.suffix)
    return str(tag)


_SHARED_MAX = 64


class _Converter:
    def __init__(self, file: str, strings: dict[str, str]) -> None:
        self.file = file
        self.strings = strings
        self.paths: list[FieldPath] = []
        self.spots: list[int] = []  # where paths[i] was written, packed (see `Positions.packed`)
        self.warnings: list[YamlError] = []
        self.nulls: list[tuple[FieldPath, int, int]] = []  # fields written as null, left out

    def _shared(self, text: str) -> str:
        """One copy of each short string per load: keys and values like `http-proxy` repeat in every
        manifest. A table of the load's own, not `sys.intern`: interned strings are immortal on
        Python 3.12, and a daemon reloads changing repositories for weeks."""
        return self.strings.setdefault(text, text) if len(text) <= _SHARED_MAX else text

    def _mark(self, path: FieldPath, node: Node) -> None:
        self.paths.append(path)
        self.spots.append(pack(node.start_mark.line + 1, node.start_mark.column + 1))

    def _error(self, message: str, node: Node) -> YamlError:
        return YamlError(message, node.start_mark.line + 1, node.start_mark.column + 1)

    def check_expanded_size(self, root: Node) -> None:
        """Refuse a document whose aliases expand past MAX_EXPANDED_NODES, without expanding it."""
        sizes: dict[int, int] = {}
        in_progress: set[int] = set()

        def size(node: Node) -> int:
            known = sizes.get(id(node))
            if known is not None:
                return known
            if id(node) in in_progress:
                raise self._error("recursive YAML alias: a value cannot contain itself", node)
            in_progress.add(id(node))
            total = 1
            if isinstance(node, MappingNode):
                total += sum(size(k) + size(v) for k, v in node.value)
            elif isinstance(node, SequenceNode):
                total += sum(size(item) for item in node.value)
            in_progress.discard(id(node))
            sizes[id(node)] = total
            if total > MAX_EXPANDED_NODES:
                raise self._error(
                    f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} values "
                    "(a 'billion laughs' document?)",
                    node,
                )
            return total

        try:
            size(root)
        except RecursionError:
            raise self._error(f"nesting deeper than {MAX_DEPTH} levels", root) from None

    def convert(self, node: Node, path: FieldPath, depth: int) -> JSON:
        if depth > MAX_DEPTH:
            raise self._error(f"nesting deeper than {MAX_DEPTH} levels", node)
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if isinstance(node, SequenceNode):
            self._check_tag(node, "seq")
            items: list[JSON] = []
            for index, item in enumerate(node.value):
                item_path = (*path, index)
                self._mark(item_path, item)
                items.append(self.convert(item, item_path, depth + 1))
            return items
        if isinstance(node, MappingNode):
            self._check_tag(node, "map")
            return self._mapping(node, path, depth)
        raise self._error(f"unsupported YAML node {type(node).__name__}", node)  # pragma: no cover

    def _mapping(self, node: MappingNode, path: FieldPath, depth: int) -> dict[str, JSON]:
        """A mapping without its null-valued fields: Kubernetes prunes `field: null` from a custom
        resource before it is stored (the field is as if absent, a merged-in value included), so
        the field gets no position either. Nulls inside lists stay (the schema judges them)."""
        result: dict[str, JSON] = {}
        merged: dict[str, JSON] = {}
        nulled: dict[str, int] = {}  # key -> line of a field written as null
        for key_node, value_node in node.value:
            if _tag(key_node) == _MERGE_TAG:
                merged.update(self._merge_sources(value_node, path, depth))
                continue
            if not isinstance(key_node, ScalarNode):
                raise self._error("mapping keys must be plain strings, not collections", key_node)
            key = self._shared(key_node.value)
            field_path = (*path, key)
            if key in result or key in nulled:
                value = self.convert(value_node, field_path, depth + 1)
                if key in nulled:
                    self._duplicate_of_null(key_node, nulled[key], value)
                else:
                    self._duplicate(key_node, result[key], value, path)
                continue
            mark = len(self.paths)
            self._mark(field_path, key_node)
            value = self.convert(value_node, field_path, depth + 1)
            if value is None:
                del self.paths[mark], self.spots[mark]
                nulled[key] = key_node.start_mark.line + 1
                self.nulls.append((field_path, key_node.start_mark.line + 1, key_node.start_mark.column + 1))
                continue
            result[key] = value
        for key, value in merged.items():
            if key not in nulled and value is not None:
                result.setdefault(key, value)
        return result

    def _duplicate_of_null(self, key_node: ScalarNode, first_line: int, value: JSON) -> None:
        if value is not None:
            raise self._error(
                f"duplicate key {key_node.value!r} with a different value (first defined at line {first_line})",
                key_node,
            )
        self.warnings.append(
            self._error(
                f"duplicate key {key_node.value!r} (same value as at line {first_line}): remove one",
                key_node,
            )
        )

    def _duplicate(self, key_node: ScalarNode, first_value: JSON, value: JSON, path: FieldPath) -> None:
        """A repeated key is ambiguous unless both values agree; Kubernetes keeps the last and warns."""
        where = (*path, key_node.value)
        first = len(self.paths) - 1 - self.paths[::-1].index(where)
        first_line = unpack_line(self.spots[first])
        if value != first_value:
            raise self._error(
                f"duplicate key {key_node.value!r} with a different value (first defined at line {first_line})",
                key_node,
            )
        self.warnings.append(
            self._error(
                f"duplicate key {key_node.value!r} (same value as at line {first_line}): remove one",
                key_node,
            )
        )

    def _merge_sources(self, node: Node, path: FieldPath, depth: int) -> dict[str, JSON]:
        """YAML 1.1 merge keys (`<<: *defaults`), which Kubernetes' YAML reader honours too."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        merged: dict[str, JSON] = {}
        for source in reversed(sources):
            if not isinstance(source, MappingNode):
                raise self._error("a merge key (<<) must refer to a mapping", source)
            merged.update(self._mapping(source, path, depth + 1))
        return merged

    def _check_tag(self, node: Node, kind: str) -> None:
        tag = _tag(node)
        if tag != _TAG + kind and tag not in ("!", "?"):
            raise self._error(f"unsupported YAML tag {tag!r}: only plain data is allowed", node)

    def _scalar(self, node: ScalarNode) -> JSON:
        tag, value = _tag(node), node.value
        if tag in (_TAG + "str", "!", _TAG + "timestamp", _TAG + "binary"):
            # Kubernetes turns YAML into JSON, where a timestamp is a string: keep what was written.
            return self._shared(value)
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return value.lower() == "true"
        if tag == _TAG + "int":
            return _to_int(value, node, self)
        if tag == _TAG + "float":
            return _to_float(value, node, self)
        raise self._error(f"unsupported YAML tag {tag!r}: only plain data is allowed", node)


def _to_int(value: str, node: Node, converter: _Converter) -> int:
    text = value.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    try:
        if digits.startswith(("0x", "0X")):
            return sign * int(digits[2:], 16)
        if digits.startswith(("0o", "0O")):
            return sign * int(digits[2:], 8)
        return int(text)
    except ValueError:
        raise converter._error(f"invalid integer {value!r}", node) from None


def _to_float(value: str, node: Node, converter: _Converter) -> float:
    text = value.replace("_", "").lower()
    if text.lstrip("+-") in (".inf", ".nan"):
        raise converter._error(f"{value!r} has no JSON representation", node)
    try:
        return float(text)
    except ValueError:
        raise converter._error(f"invalid number {value!r}", node) from None
