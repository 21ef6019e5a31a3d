"""Print what a documented console block prints today, in the block's own format, for the Markdown
when the tool's wording changes: `.venv/bin/python -m tests.docs.show README.md:172`, or with
`--write` put it into the document in place of the block's body (then read the diff before committing).

It runs the block exactly as `test_docs.py` does (scratch folder, setups, emulator on a free port);
the emulator's port is written back as 8083, and nothing else is replaced. A command whose exit
status differs from the document's is reported on stderr, and `--write` then refuses.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from reconciler.emulator import EmulatorConfig, start_emulator
from tests.docs.blocks import Block, parse_blocks
from tests.docs.session import DOCUMENTED_PORT, Scene, base_env, run_console
from tests.docs.setups import prepare

REPO = Path(__file__).resolve().parents[2]


def _block(reference: str, root: Path) -> Block:
    document, _, line = reference.rpartition(":")
    for block in parse_blocks((root / document).read_text(), document):
        if block.line == int(line):
            return block
    raise SystemExit(f"no fenced block opens at {reference}")


def _session(block: Block, scene: Scene) -> tuple[list[str], bool]:
    outcomes, stderr = run_console(block, prepare(block, scene))
    lines: list[str] = []
    agrees = True
    for outcome in outcomes:
        lines += ("$ " + outcome.command.text).splitlines()
        for line in outcome.stdout.splitlines():
            lines.append(re.sub(rf"\b{scene.port}\b", str(DOCUMENTED_PORT), line) if scene.port else line)
        if outcome.exit_code != outcome.command.exit_code:
            agrees = False
            print(
                f"`{outcome.command.text}` exited {outcome.exit_code}; the document says {outcome.command.exit_code}",
                file=sys.stderr,
            )
    if stderr.strip():
        print("--- stderr\n" + stderr, file=sys.stderr)
    return lines, agrees


def main(reference: str, write: bool = False, root: Path = REPO) -> int:
    block = _block(reference, root)
    if block.language != "console" or block.marker is None or not block.marker.runnable:
        raise SystemExit(f"{reference} is not a runnable console block")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if block.marker.emulator:
            with start_emulator(EmulatorConfig(port=0)) as emulator:
                port = int(emulator.base_url.rsplit(":", 1)[1])
                lines, agrees = _session(block, Scene(folder, base_env(folder), port, emulator.base_url))
        else:
            lines, agrees = _session(block, Scene(folder, base_env(folder)))
    if not write:
        print("\n".join(lines))
        return 0 if agrees else 1
    if not agrees:
        return 1
    path = root / block.document
    text = path.read_text().split("\n")
    start = block.line  # the fence is on line `block.line` (1-based): the body starts at that index
    text[start : start + len(block.body)] = lines
    path.write_text("\n".join(text))
    return 0


if __name__ == "__main__":
    arguments = sys.argv[1:]
    sys.exit(main(arguments[-1], write="--write" in arguments))
