"""The loader never raises anything but returns problems, for generated and mutated YAML."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from reconciler.manifests import load_manifests
from tests.apply.helpers import api_yaml, context_yaml
from tests.property.settings import fuzz

VALID = (context_yaml("http://127.0.0.1:8083") + "---\n" + api_yaml("fuzzed")).encode()
YAML_BITS = [
    b"\t",
    b"  ",
    b":",
    b"- ",
    b"&a ",
    b"*a",
    b"[",
    b"]",
    b"{",
    b"}",
    b"'",
    b'"',
    b"\n",
    b"---\n",
    b"!!python/object ",
    b"<<: *a\n",
    b"[[ secret `a/b` ]]",
    b"\xff",
    b"\x00",
    b"#",
    b"|\n",
    b">-\n",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            data[at:at] = draw(st.sampled_from(YAML_BITS))
        elif choice == 1:
            del data[at : at + draw(st.integers(1, 40))]
        elif choice == 2 and at < len(data):
            data[at] = draw(st.integers(0, 255))
        else:
            data = data[:at]
    return bytes(data)


documents = st.one_of(
    mutated(),
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.lists(
        st.sampled_from([*YAML_BITS, b"a", b"kind", b"apiVersion: gravitee.io/v1alpha1\n"]), max_size=40
    ).map(b"".join),
)


@fuzz
@given(documents)
def test_loader_returns_problems_and_never_raises(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "doc.yaml").write_bytes(data)
        manifests = load_manifests([tmp])  # any exception fails the property
    for problem in manifests.problems:
        assert problem.message
        if problem.position is not None:
            assert problem.position.line >= 1 and problem.position.column >= 1
