"""The Redactor and its structlog processor/renderer."""

from __future__ import annotations

import io
import json

import structlog

from reconciler.secrets import REDACTED, RedactingProcessor, RedactingRenderer, Redactor, Secret


def test_scrubs_known_values_longest_first() -> None:
    r = Redactor()
    r.add("abcd")
    r.add(Secret("abcdef-long"))
    assert r.scrub("x abcdef-long y abcd z") == f"x {REDACTED} y {REDACTED} z"


def test_short_values_are_only_redacted_when_they_are_the_whole_string() -> None:
    r = Redactor()
    r.add("ab")
    assert r.scrub("about tabs") == "about tabs"
    assert r.scrub("ab") == REDACTED


def test_scrub_data_walks_structures_and_hides_secrets() -> None:
    r = Redactor()
    r.add("topsecret")
    data = {"a": ["x topsecret", ("topsecret",)], "b": Secret("other"), "c": 3}
    assert r.scrub_data(data) == {"a": [f"x {REDACTED}", (REDACTED,)], "b": REDACTED, "c": 3}


def test_processor_and_renderer_in_structlog() -> None:
    r = Redactor()
    r.add("canary-value-1")
    out = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(out),
        processors=[
            structlog.processors.format_exc_info,
            RedactingProcessor(r),
            RedactingRenderer(structlog.processors.JSONRenderer(), r),
        ],
    )
    logger.info("header is canary-value-1", field={"nested": "canary-value-1"})
    try:
        raise RuntimeError("boom canary-value-1")
    except RuntimeError:
        logger.exception("failed")
    text = out.getvalue()
    assert "canary-value-1" not in text
    first = json.loads(text.splitlines()[0])
    assert first["event"] == f"header is {REDACTED}"
