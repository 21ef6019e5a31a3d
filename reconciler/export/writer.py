"""Writing exported manifests: one file per resource, laid out and formatted to read well in git.

Layout: ``apis/<name>.yaml`` (v4 and v2 APIs), ``applications/<name>.yaml``, ``contexts/<name>.yaml``.
Format: block style, keys in the order the mapping built them (stable between runs, so a second
export of an unchanged environment is a no-op diff), two-space indentation with list dashes indented
like GKO's examples, multi-line strings as literal blocks, no line folding.

Existing files are never overwritten unless forced, and the check covers *every* file before the
first is written: a refused export leaves the folder exactly as it was.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString, SingleQuotedScalarString

from reconciler.manifests.model import API_DEFINITION, API_V4_DEFINITION, APPLICATION, MANAGEMENT_CONTEXT

JSON = Any

FOLDERS = {
    API_V4_DEFINITION: "apis",
    API_DEFINITION: "apis",
    APPLICATION: "applications",
    MANAGEMENT_CONTEXT: "contexts",
}


# Plain scalars that YAML 1.1 readers (kubectl, GKO) would not read as strings, though YAML 1.2
# (ruamel, our loader) does: booleans such as `yes`/`on`/`y`, and base-60 numbers such as `1:20`.
_YAML11_NOT_STRING = re.compile(
    r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?)$"
)


class OverwriteRefused(Exception):
    """Some target files exist and overwriting was not asked for; nothing was written."""

    def __init__(self, existing: Sequence[Path]) -> None:
        self.existing = tuple(existing)
        shown = ", ".join(str(p) for p in self.existing[:5])
        more = f" and {len(self.existing) - 5} more" if len(self.existing) > 5 else ""
        super().__init__(f"refusing to overwrite {shown}{more} (use --force)")


@dataclass(frozen=True)
class OutputFile:
    relative: Path
    text: str


def relative_path(kind: str, name: str) -> Path:
    return Path(FOLDERS[kind]) / f"{name}.yaml"


def render_yaml(document: Mapping[str, JSON]) -> str:
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = False
    yaml.width = 1 << 16  # never fold long strings: a folded line is a spurious diff
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(_for_yaml(document), out)
    return out.getvalue()


def _for_yaml(value: JSON) -> JSON:
    if isinstance(value, Mapping):
        return {str(k): _for_yaml(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_for_yaml(v) for v in value]
    if isinstance(value, str) and "\n" in value.rstrip("\n") and _literal_safe(value):
        return LiteralScalarString(value)
    if isinstance(value, str) and _YAML11_NOT_STRING.match(value):
        return SingleQuotedScalarString(value)
    return value


def _literal_safe(text: str) -> bool:
    """A literal block keeps a string exactly unless it has trailing spaces, tabs or CRs."""
    return (
        "\r" not in text and "\t" not in text and all(line == line.rstrip(" ") for line in text.split("\n"))
    )


def write_files(out_dir: Path, files: Sequence[OutputFile], *, force: bool) -> list[Path]:
    """Write every file under `out_dir` (atomically each); refuse before writing if any exists."""
    targets = [out_dir / f.relative for f in files]
    if not force:
        existing = [t for t in targets if t.exists() or t.is_symlink()]
        if existing:
            raise OverwriteRefused(existing)
    for target, file in zip(targets, files, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(file.text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return targets
