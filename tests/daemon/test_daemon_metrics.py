"""Every metric series is there before anything happened, the documentation names exactly the
metrics, labels and label values the daemon exports, and each daemon counts in its own registry.

The daemon runs as a real process against an emulator that never answers: its first sync is held at
its first APIM request, so the scrape is deterministically "before any event" (no sync ended, no
request counted, no webhook called) without depending on how fast the machine is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import product
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, generate_latest

from reconciler.daemon.identity import token_expiry_seconds
from reconciler.daemon.metrics import Metrics
from reconciler.emulator import EmulatorConfig, Fault, RunningEmulator, start_emulator
from reconciler.identity import IdentityStatus
from reconciler.identity.model import TokenInfo
from tests.apply.helpers import Repo, api_yaml, context_yaml, set_token_env
from tests.daemon.conftest import StartDaemon
from tests.daemon.support import REPO_ROOT, parse_metrics, wait_for

pytestmark = pytest.mark.timeout(60)

PREFIX = "apim_reconciler_"
TOKEN_EXPIRY = PREFIX + "token_expiry_seconds"
DAEMON_DOC = REPO_ROOT / "docs" / "daemon.md"
DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
Key = tuple[str, tuple[tuple[str, str], ...]]
#: Families of prometheus-client's process, platform and GC collectors that docs/daemon.md names.
STANDARD = {
    "process_cpu_seconds_total": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_start_time_seconds": "gauge",
    "process_open_fds": "gauge",
    "python_info": "gauge",
    "python_gc_collections_total": "counter",
}


@dataclass(frozen=True)
class DocumentedMetric:
    """A row of the metrics table of docs/daemon.md."""

    name: str
    type: str
    closed: dict[str, tuple[str, ...]]  # label → every value it can take
    open: tuple[str, ...]  # labels whose values come from the run (a context, a commit)


def _backticked(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def documented_metrics() -> dict[str, DocumentedMetric]:
    """The table's rows; a labels cell reads ``label`` = ``v1``, ``v2`` (...); ``other`` = ..."""
    rows: dict[str, DocumentedMetric] = {}
    for line in DAEMON_DOC.read_text().splitlines():
        if not line.startswith(f"| `{PREFIX}"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        name, kind, labels = _backticked(cells[0])[0], cells[1], cells[2]
        closed: dict[str, tuple[str, ...]] = {}
        open_labels: list[str] = []
        for part in filter(None, (p.strip() for p in labels.split(";"))):
            before, equals, after = part.partition("=")
            label = _backticked(before)[0]
            if equals:
                closed[label] = tuple(_backticked(after))
            else:
                open_labels.append(label)
        rows[name] = DocumentedMetric(name, kind, closed, tuple(open_labels))
    return rows


def exported_types(text: str) -> dict[str, str]:
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.MULTILINE))


@pytest.fixture
def hung_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningEmulator]:
    """An APIM that never answers anything: a sync stays at its first request."""
    with start_emulator(EmulatorConfig(faults=(Fault.parse("* *=hang"),))) as emu:
        set_token_env(monkeypatch, emu.base_url)
        yield emu


def test_every_documented_series_is_exported_at_zero_before_any_event(
    hung_emulator: RunningEmulator, start_daemon: StartDaemon, tmp_path: Path
) -> None:
    repo = Repo(tmp_path / "manifests", hung_emulator.base_url)
    repo.write("other.yaml", context_yaml(hung_emulator.base_url, name="other"))
    repo.write("alpha.yaml", api_yaml("alpha"))
    daemon = start_daemon(
        repo.root, "--interval", "120", "--cache-dir", tmp_path / "cache", "--shutdown-timeout", "0.5"
    )
    contexts = {"default/apim", "default/other"}

    def scraped_once_loaded() -> str | None:
        text = daemon.client.get("/metrics").text
        declared = {dict(labels)["context"] for name, labels in parse_metrics(text) if name == TOKEN_EXPIRY}
        return text if declared == contexts else None

    text = wait_for(scraped_once_loaded, "the contexts' series, once the manifests are loaded")
    samples = parse_metrics(text)
    # still before any event: the first sync is in flight, held by APIM, and nothing else happened
    assert daemon.condition("Reconciling")["status"] == "True"
    assert daemon.status()["syncs"] == 0

    documented = documented_metrics()
    expected: dict[Key, float] = {}
    for metric in documented.values():
        if metric.type == "histogram":
            bounds = re.findall(rf'^{metric.name}_bucket{{le="([^"]+)"}}', text, re.MULTILINE)
            finite = [float(b) for b in bounds if b != "+Inf"]
            assert "+Inf" in bounds and (min(finite), max(finite)) == (0.05, 600)  # as documented
            for bound in bounds:
                expected[(f"{metric.name}_bucket", (("le", bound),))] = 0
            expected[(f"{metric.name}_sum", ())] = 0
            expected[(f"{metric.name}_count", ())] = 0
        elif metric.name == TOKEN_EXPIRY:
            for context in contexts:
                expected[(metric.name, (("context", context),))] = math.nan  # not checked yet: unknown
        elif metric.open:
            assert metric.open == ("commit",), f"{metric.name}: which values before any event?"
        else:
            names = sorted(metric.closed)
            for values in product(*(metric.closed[n] for n in names)):
                expected[(metric.name, tuple(zip(names, values, strict=True)))] = 0
    ours = {key: value for key, value in samples.items() if key[0].startswith(PREFIX)}
    assert set(ours) == set(expected)
    for key, value in expected.items():
        assert math.isnan(ours[key]) if math.isnan(value) else ours[key] == value, key

    types = exported_types(text)
    assert {n: t for n, t in types.items() if n.startswith(PREFIX)} == {
        m.name: m.type for m in documented.values()
    }
    # and the standard collectors of prometheus-client, as docs/daemon.md says, from the start too
    assert {n: types[n] for n in STANDARD} == STANDARD
    assert samples[("process_resident_memory_bytes", ())] > 0
    assert samples[("process_start_time_seconds", ())] > 1.7e9


def test_every_metric_named_in_the_docs_is_exported_and_documented() -> None:
    """Names anywhere in README.md and docs/*.md (a histogram's series count as its family)."""
    exported = {name for name in exported_types(Metrics().render()) if name.startswith(PREFIX)}
    documented = set(documented_metrics())
    assert exported == documented
    for name in STANDARD:
        assert f"`{name}`" in DAEMON_DOC.read_text(), f"docs/daemon.md does not name {name}"
    for doc in DOCS:
        for name in set(re.findall(rf"\b{PREFIX}[a-z_]+", doc.read_text())):
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert family in exported, f"{doc.relative_to(REPO_ROOT)} names {name}, which is not exported"


def test_token_expiry_series_follow_the_contexts_and_an_unknown_expiry_is_nan() -> None:
    metrics = Metrics()
    metrics.declare_contexts(["default/a", "default/b"])
    samples = parse_metrics(metrics.render())
    assert all(math.isnan(samples[(TOKEN_EXPIRY, (("context", c),))]) for c in ("default/a", "default/b"))

    metrics.record_token_expiry({"default/a": 3600.0, "default/b": math.inf})
    text = metrics.render()
    assert f'{TOKEN_EXPIRY}{{context="default/b"}} +Inf' in text.splitlines()
    metrics.declare_contexts(["default/a", "default/c"])  # b left the repository, c joined it
    samples = parse_metrics(metrics.render())
    assert samples[(TOKEN_EXPIRY, (("context", "default/a"),))] == 3600  # a known value is kept
    assert math.isnan(samples[(TOKEN_EXPIRY, (("context", "default/c"),))])
    assert (TOKEN_EXPIRY, (("context", "default/b"),)) not in samples


def test_the_expiry_published_says_never_or_unknown_rather_than_zero() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    listed = TokenInfo("token list", id="t1", expires_at=now + timedelta(hours=1))
    assert token_expiry_seconds(IdentityStatus("default/a", ok=True, token=listed), now) == 3600
    expired = TokenInfo("JWT exp claim", expires_at=now - timedelta(seconds=5))
    assert token_expiry_seconds(IdentityStatus("default/a", ok=False, token=expired), now) == -5
    # APIM lists the token without an expiry: it never expires
    never = TokenInfo("token list", id="t1")
    assert token_expiry_seconds(IdentityStatus("default/a", ok=True, token=never), now) == math.inf
    # a JWT without `exp`, Basic credentials, a check that failed: nothing is known
    for status in (
        IdentityStatus("default/a", ok=True, token=TokenInfo("JWT exp claim")),
        IdentityStatus("default/a", ok=True),
        IdentityStatus("default/a", ok=False, error="APIM refused the credentials"),
    ):
        assert math.isnan(token_expiry_seconds(status, now))


def test_each_daemon_counts_in_its_own_registry() -> None:
    """Two daemons in one process (as in the tests) share no series: neither the library's global
    registry nor each other's."""
    first, second = Metrics(), Metrics()
    first.count_loop_error()
    first.declare_contexts(["default/a"])
    loop_errors = (PREFIX + "loop_errors_total", ())
    assert parse_metrics(first.render())[loop_errors] == 1
    assert parse_metrics(second.render())[loop_errors] == 0
    assert not [k for k in parse_metrics(second.render()) if k[0] == TOKEN_EXPIRY]
    assert PREFIX + "loop_errors_total" not in generate_latest(REGISTRY).decode()
