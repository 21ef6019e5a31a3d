"""The one scrubber behind every output: every form of a registered value, and every way out of the
process (a value written in two pieces, a traceback, a thread's uncaught exception)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap

import pytest

from reconciler.secrets import REDACTED, Redactor
from tests.security.helpers import REPO_ROOT, assert_no_leak, echo_forms, forms

SECRET = 'cnry-scrub/9f+8e<7d&6c"5b 4a3f2e'  # characters that each encoding changes


def echoed(name: str) -> str:
    """The text a server would send holding the form `name` of SECRET (base64 windows: the base64
    of the secret behind 0, 1 or 2 bytes of something else, as in `Basic user:password`)."""
    if name.startswith("base64+"):
        before = b"ab:"[: int(name[-1])]
        return base64.b64encode(before + SECRET.encode() + b"!").decode()
    return forms(SECRET)[name]


@pytest.mark.parametrize("name", sorted(forms(SECRET)))
def test_every_derived_form_is_scrubbed(name: str) -> None:
    redactor = Redactor()
    redactor.add(SECRET)
    text = f"APIM said: {echoed(name)} (end)"
    assert_no_leak(redactor.scrub(text), {"secret": SECRET})
    assert redactor.scrub(text).startswith("APIM said: ") and REDACTED in redactor.scrub(text)


def test_the_echo_forms_and_a_basic_header() -> None:
    redactor = Redactor()
    redactor.add(SECRET)
    header = base64.b64encode(f"deployer:{SECRET}".encode()).decode()
    for text in [*echo_forms(SECRET), header, json.dumps({"m": SECRET}, ensure_ascii=True)]:
        assert_no_leak(redactor.scrub(f"x {text} y"), {"secret": SECRET})


def test_cut_short_only_for_values_read_whole() -> None:
    """An interpolated string's beginning is the manifest's own text: not masked on its own."""
    redactor = Redactor()
    redactor.add("https://backend.example.com/?k=" + SECRET, atomic=False)
    assert redactor.scrub("see https://backend.example.com/") == "see https://backend.example.com/"
    redactor.add(SECRET)
    assert redactor.scrub(f"cut: {SECRET[:12]}…") == f"cut: {REDACTED}…"


def test_each_line_of_a_multi_line_secret() -> None:
    redactor = Redactor()
    redactor.add("-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\nshort\n-----END KEY-----")
    assert redactor.scrub("line MIIBOgIBAAJBAKj34GkxFhD9 seen") == f"line {REDACTED} seen"
    assert redactor.scrub("short words stay") == "short words stay"  # under 8 characters


def test_very_short_values_only_where_they_are_the_whole_text() -> None:
    redactor = Redactor()
    redactor.add("ab1")
    assert redactor.scrub("ab1") == REDACTED and redactor.scrub("tab1e") == "tab1e"


SCRIPT = """
import sys, threading
from reconciler.secrets import default_redactor
from reconciler.secrets.stdio import scrubbed_stdio

SECRET = {secret!r}
default_redactor().add(SECRET)
with scrubbed_stdio():
    sys.stdout.write("split: " + SECRET[:9])
    sys.stdout.write(SECRET[9:] + " done\\n")
    sys.stderr.write(SECRET.upper() + " without a newline")
    thread = threading.Thread(target=lambda: (_ for _ in ()).throw(RuntimeError("thread " + SECRET)))
    thread.start()
    thread.join()
    raise ValueError("header value " + SECRET + " rejected")
"""


def test_what_leaves_the_process_is_scrubbed_tracebacks_included() -> None:
    script = textwrap.dedent(SCRIPT.format(secret=SECRET))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1  # what an uncaught exception gives
    assert "split: (sensitive) done" in result.stdout
    assert "Traceback" in result.stderr and "ValueError: header value (sensitive) rejected" in result.stderr
    assert "RuntimeError: thread (sensitive)" in result.stderr
    assert_no_leak(result.stdout + result.stderr, {"secret": SECRET})
