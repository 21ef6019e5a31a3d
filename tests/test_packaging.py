"""The package metadata is in the form current setuptools reads without a deprecation warning: PEP
639's SPDX license expression, with a build backend recent enough to read it (setuptools 77).

A wheel build would need the build backend from the package index, and the tests reach only
127.0.0.1, so the shape of pyproject.toml is checked here. By hand, `pip wheel . --no-deps` in a
copy of the tree printed no warning with this shape, and `project.license` warnings with the old
table form (`license = { text = ... }`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_license_is_an_spdx_expression_and_nothing_else_declares_one() -> None:
    license_ = PYPROJECT["project"]["license"]
    assert isinstance(license_, str), "project.license must be an SPDX string, not a table (deprecated)"
    assert canonicalize_license_expression(license_) == license_
    classifiers = PYPROJECT["project"].get("classifiers", [])
    assert not [c for c in classifiers if c.startswith("License ::")]  # PEP 639: not with an expression
    for pattern in PYPROJECT["project"].get("license-files", []):
        assert list(ROOT.glob(pattern)), f"license-files: {pattern} matches no file"


def test_the_build_backend_reads_pep_639() -> None:
    (setuptools,) = [
        Requirement(r) for r in PYPROJECT["build-system"]["requires"] if Requirement(r).name == "setuptools"
    ]
    assert not setuptools.specifier.contains("76.1.0"), "setuptools < 77 does not read an SPDX license"
    assert setuptools.specifier.contains("80.9.0")
