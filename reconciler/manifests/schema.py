"""Schema validation of our four kinds against the JSON Schemas in `schemas/`.

Errors are turned into Problems at the line of the offending field. A value that is exactly one
template (``[[ secret `name/key` ]]``) may stand where the schema wants an enum, a number or a
boolean, as GKO resolves templates before it validates: such errors are ignored here, and the
resolved spec is validated again once templates are resolved (`validate_resolved`, whose messages
never show a resolved value).

Speed: the pure-Python validator costs about 0.7 ms per API manifest, most of the time of a
`validate`. jsonschema-rs (Rust) answers "valid?" in microseconds, so it screens every document
and the Python validator, whose errors we know how to explain, runs only on documents that fail;
it is imported only then too (with `referencing`, some 25 ms of a `validate` of one valid file).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from reconciler.manifests.limits import HRID_PATTERN, hrid_problem
from reconciler.manifests.model import (
    JSON,
    RECONCILED_KINDS,
    FieldPath,
    Positions,
    Problem,
    ResourceId,
    Severity,
)
from reconciler.manifests.templates import has_template, is_whole_template

if TYPE_CHECKING:  # imported when a document fails the screen (or there is no jsonschema-rs)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_rust: Any
try:
    import jsonschema_rs as _rust
except ImportError:  # pragma: no cover - no wheel for this platform: the Python validator does it all
    _rust = None

_TEMPLATE_TOLERANT_CHECKS = {"format", "pattern", "minLength", "maxLength"}

_PATTERN_MEANING = {
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$": "a Kubernetes name: lowercase "
    "letters, digits, '-' and '.', beginning and ending with a letter or digit",
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$": "a Kubernetes namespace: lowercase letters, digits and '-', "
    "beginning and ending with a letter or digit",
    r"^https?://": "an http:// or https:// URL",
}
"""What a regular expression of our schemas means, for messages that people can act on."""


def schema_text(kind: str) -> str:
    """The JSON Schema of a kind, as shipped; raises KeyError for a kind we do not reconcile."""
    if kind not in RECONCILED_KINDS:
        raise KeyError(kind)
    return resources.files("reconciler").joinpath("schemas", f"{kind}.json").read_text(encoding="utf-8")


@cache
def _validator(kind: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    schema = json.loads(schema_text(kind))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def _screen(kind: str) -> Any:
    """A fast yes/no validator of the same schema, or the Python one where the Rust one is missing."""
    if _rust is None:
        return _validator(kind)
    return _rust.Draft202012Validator(json.loads(schema_text(kind)))


def validate_body(
    kind: str, body: Mapping[str, JSON], positions: Positions, resource: ResourceId | None
) -> list[Problem]:
    """Every schema problem of one document of `kind`, each at the line of its field."""
    if _screen(kind).is_valid(body):
        return []
    validator = _validator(kind)
    problems: list[Problem] = []
    for error in validator.iter_errors(body):
        for leaf in _leaves(error):
            if _is_template_standing_in(leaf):
                continue
            path, message = describe_error(leaf, validator)
            problem = Problem(Severity.ERROR, message, positions.of(path), resource, path)
            if problem not in problems:  # jsonschema reports `required` once per missing field
                problems.append(problem)
    return problems


def validate_resolved(
    kind: str,
    body: Mapping[str, JSON],
    written: Mapping[str, JSON],
    positions: Positions,
    resource: ResourceId,
) -> list[Problem]:
    """Schema problems of a document whose templates were resolved, described without any value.

    A resolved value may be a secret, or a config map or variable that is one in all but name, so
    a message names the field, the template as written (`written` is the spec before resolution)
    and what the schema expected; it never quotes what the template gave.
    """
    if _screen(kind).is_valid(body):
        return []
    problems: list[Problem] = []
    for error in _validator(kind).iter_errors(body):
        for leaf in _leaves(error):
            path: FieldPath = tuple(leaf.absolute_path)
            template = _written_at(written, path[1:]) if path[:1] == ("spec",) else None
            subject = f"the value of {template}" if template else "the resolved value (not shown)"
            message = f"after resolving templates: {subject} {_expectation(leaf)}"
            problem = Problem(Severity.ERROR, message, positions.of(path), resource, path)
            if problem not in problems:
                problems.append(problem)
    return problems


def _written_at(spec: Mapping[str, JSON], path: FieldPath) -> str | None:
    """The templated string written at `path`, for a message (cut short: it is from the repository)."""
    value: Any = spec
    for part in path:
        found = isinstance(value, Mapping) and part in value
        found = found or (isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value))
        if not found:
            return None
        value = value[part]
    if not isinstance(value, str) or not has_template(value):
        return None
    text = value.strip()
    if is_whole_template(text):
        return text
    return json.dumps(text if len(text) <= 120 else text[:119] + "…", ensure_ascii=False)


def _expectation(error: ValidationError) -> str:
    """What the schema wanted, in words that do not repeat the value that failed."""
    expected: Any = error.validator_value
    rule = str(error.validator)
    if rule == "enum":
        return "is not one of " + ", ".join(json.dumps(v) for v in expected)
    if rule == "const":
        return f"is not {json.dumps(expected)}"
    if rule == "type":
        return f"is not {_type_name(expected)} (a template gives a string)"
    if rule == "pattern":
        return f"is not {_PATTERN_MEANING.get(str(expected), f'matching the pattern {expected}')}"
    if rule == "format":
        return f"is not a valid {expected}"
    bounds = {
        "minLength": f"is shorter than {expected} characters",
        "maxLength": f"is longer than {expected} characters",
        "minimum": f"is less than {expected}",
        "maximum": f"is more than {expected}",
        "exclusiveMinimum": f"is not more than {expected}",
        "exclusiveMaximum": f"is not less than {expected}",
    }
    return bounds.get(rule, f"breaks the schema's {rule!r} rule")


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The errors to explain: an anyOf/oneOf whose alternatives all fail on the same field (a deeper
    anyOf, say) is explained by its best sub-error; any other is explained whole (`_alternatives`)."""
    if error.context and error.validator in ("anyOf", "oneOf"):
        from jsonschema.exceptions import best_match

        best = best_match(error.context)
        deeper = best is not None and len(best.absolute_path) > len(error.absolute_path)
        if deeper and best.validator not in ("anyOf", "oneOf") and _all_alternatives_agree(error):
            yield best
            return
    yield error


def _all_alternatives_agree(error: ValidationError) -> bool:
    """Whether every alternative fails at one and the same place (then that place is the problem)."""
    places = {tuple(e.absolute_path) for e in error.context or ()}
    return len(places) == 1


def describe_error(error: ValidationError, validator: Draft202012Validator) -> tuple[FieldPath, str]:
    """Where an error is, and what it means in the user's words (`validator` made it: sub-schemas of
    alternatives are checked with it to find the closest one)."""
    return _alternatives(error, validator) or _describe(error)


def _alternatives(error: ValidationError, validator: Draft202012Validator) -> tuple[FieldPath, str] | None:
    """anyOf/oneOf and `not: {required: [...]}` in words: which alternatives exist, and which one the
    document almost matches (the one with the fewest errors); None for any other error."""
    path: FieldPath = tuple(error.absolute_path)
    instance: Any = error.instance
    options: Any = error.validator_value
    if error.validator == "not" and isinstance(options, dict) and set(options) == {"required"}:
        return path, _exclusive(error, validator, [str(k) for k in options["required"]])
    if error.validator not in ("anyOf", "oneOf") or not isinstance(options, list):
        return None
    names = [_option_name(option, i) for i, option in enumerate(options)]
    listed = _or([f"{n}" for n in names])
    if error.validator == "oneOf" and not error.context:
        return path, f"matches more than one of the alternatives {listed}: it must match exactly one"
    fields = [_only_required(option) for option in options]
    if all(fields) and isinstance(instance, dict):
        wanted = "exactly one" if error.validator == "oneOf" else "one"
        return path, f"needs {wanted} of the fields {_or([repr(f) for f in fields if f])}; none is set"
    failures: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        failures.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    # Fewest errors first; between equals, the one that knows most of the fields the document has.
    closest = min(
        range(len(options)),
        key=lambda i: (len(failures.get(i, [])), -_known_fields(validator, options[i], instance), i),
    )
    why = [_describe(e) for e in failures.get(closest, [])]
    where = "; ".join(f"{format_path(p[len(path) :])}{m}" for p, m in why[:3])
    return path, f"matches none of the alternatives {listed}; closest is {names[closest]}: {where}"


def _exclusive(error: ValidationError, validator: Draft202012Validator, keys: list[str]) -> str:
    """`app` and `oauth` both set where only one may be: each described, and the closer one named."""
    instance: Any = error.instance
    properties: Any = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    described = [
        f"{key!r} ({_first_sentence(properties.get(key, {}).get('description'))})"
        if isinstance(properties.get(key), dict) and properties[key].get("description")
        else repr(key)
        for key in keys
    ]
    text = f"{_and([repr(k) for k in keys])} cannot be set together: choose {_or(described)}"
    if not isinstance(instance, dict):
        return text
    if len(keys) != 2:
        return text
    schema: Any = error.schema
    left = {
        keep: sum(1 for _ in validator.descend({k: v for k, v in instance.items() if k != drop}, schema))
        for keep, drop in (keys, keys[::-1])
    }
    if left[keys[0]] == left[keys[1]]:
        return text
    keep = min(keys, key=lambda k: left[k])
    drop = next(k for k in keys if k != keep)
    return f"{text}; the document is closest to {keep!r} alone (remove {drop!r})"


def _known_fields(validator: Draft202012Validator, option: Any, instance: Any) -> int:
    """How many fields of `instance` the alternative `option` defines (its local `$ref` followed)."""
    for _ in range(8):  # a chain of references, bounded
        ref = option.get("$ref") if isinstance(option, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#/"):
            break
        option = validator.schema
        for part in ref[2:].split("/"):
            option = option.get(part, {}) if isinstance(option, dict) else {}
    properties = option.get("properties") if isinstance(option, dict) else None
    if not isinstance(properties, dict) or not isinstance(instance, dict):
        return 0
    return sum(1 for key in instance if key in properties)


def _option_name(option: Any, index: int) -> str:
    if isinstance(option, dict):
        if isinstance(option.get("title"), str):
            return repr(option["title"])
        if isinstance(option.get("$ref"), str):
            return repr(option["$ref"].rsplit("/", 1)[-1])
        required = option.get("required")
        if isinstance(required, list) and required:
            return "with " + _and([repr(r) for r in required])
        if "const" in option:
            return json.dumps(option["const"])
        if isinstance(option.get("type"), str | list):
            return _type_name(option["type"])
    return f"alternative {index + 1}"


def _only_required(option: Any) -> str | None:
    """The one field an alternative asks for, when that is all it asks."""
    if isinstance(option, dict) and set(option) == {"required"} and len(option["required"]) == 1:
        return str(option["required"][0])
    return None


def _first_sentence(text: Any) -> str:
    return str(text).split(". ")[0].rstrip(".")


def format_path(path: FieldPath) -> str:
    """A path relative to the reported field, as a prefix: `plans.Free.`, or nothing."""
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return f"{text}: " if text else ""


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _is_template_standing_in(error: ValidationError) -> bool:
    instance = error.instance
    if not isinstance(instance, str):
        return False
    return is_whole_template(instance) or (
        error.validator in _TEMPLATE_TOLERANT_CHECKS and has_template(instance)
    )


def _describe(error: ValidationError) -> tuple[FieldPath, str]:
    path: FieldPath = tuple(error.absolute_path)
    schema: Any = error.schema
    expected: Any = error.validator_value
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(schema.get("properties", {}))
        extra = sorted(key for key in error.instance if key not in allowed)
        if extra:
            field = extra[0]
            hint = difflib.get_close_matches(field, sorted(allowed), n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            others = f" (and {', '.join(repr(e) for e in extra[1:])})" if len(extra) > 1 else ""
            return (*path, field), f"unknown field {field!r}{others}{suggestion}"
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [key for key in expected if key not in error.instance]
        if len(missing) == 1:
            return path, f"missing required field {missing[0]!r}"
        if missing:
            return path, f"missing required fields {_and([repr(m) for m in missing])}"
    if error.validator == "enum":
        allowed_values = ", ".join(json.dumps(v) for v in expected)
        return path, f"{json.dumps(error.instance)} is not one of {allowed_values}"
    if error.validator == "maxLength" and isinstance(error.instance, str):
        return path, f"{_length(error.instance):,} characters long, over the limit of {expected:,}"
    if error.validator == "minLength" and isinstance(error.instance, str):
        return path, "empty" if not error.instance else f"shorter than {expected:,} characters"
    if error.validator == "pattern" and isinstance(error.instance, str):
        reason = hrid_problem(error.instance) if expected == HRID_PATTERN else None
        if reason is not None:
            return path, f"{_shown(error.instance)} is not an HRID that APIM accepts: {reason}"
        meaning = _PATTERN_MEANING.get(str(expected))
        if meaning is not None:
            return path, f"{_shown(error.instance)} is not {meaning}"
    if error.validator == "type":
        return path, f"expected {_type_name(expected)}, got {_json_type(error.instance)}"
    return path, error.message


_SHOWN_MAX = 80


def _shown(text: str) -> str:
    """A value for a message: JSON-quoted (no raw control character), and cut when long."""
    if len(text) <= _SHOWN_MAX:
        return json.dumps(text)
    return json.dumps(text[:_SHOWN_MAX]) + f"... ({_length(text):,} characters)"


def _length(text: str) -> int:
    """Length as APIM counts it: Java strings count UTF-16 units (an emoji is two)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _type_name(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    article = {"object": "a mapping", "array": "a list", "integer": "an integer", "null": "null"}
    return " or ".join(article.get(n, f"a {n}") for n in names)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"a string ({json.dumps(value)[:40]})"
    if value is None:
        return "null"
    return f"a number ({value})"
