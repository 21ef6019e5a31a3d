"""The numbers the README states that no flag shows (the flag table is generated from the parser and
checked by tests/cli/test_flag_table.py): each is the code's. Change one, and the README with it.
The behaviour behind each number is tested where it lives (tests/apim, tests/apply, tests/daemon)."""

from __future__ import annotations

from pathlib import Path

from reconciler.apim.config import ClientConfig, RetryPolicy, Timeouts
from reconciler.apply.interrupt import GRACE_PERIOD
from reconciler.daemon.config import DaemonConfig

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_timeouts_retries_and_budgets() -> None:
    timeouts, retry = Timeouts(), RetryPolicy()
    assert (timeouts.connect, timeouts.read, timeouts.write, timeouts.pool) == (5, 30, 30, 10)
    assert "(defaults 5, 30, 30 and 10 seconds)" in README
    assert timeouts.attempt == 30 and "`--timeout` (30 s)" in README
    assert retry.max_attempts == 4 and "up to 4 attempts" in README
    assert (retry.base_delay, retry.max_delay) == (0.25, 8) and "`min(8 s, 0.25 s \u00d7 2^n)`" in README
    assert retry.max_retry_after == 60 and "honoured, up to 60 seconds" in README
    assert retry.budget == 30 and "(30 retries)" in README
    assert not retry.retry_server_error_once and "an option allows exactly one retry" in README
    assert ClientConfig().max_response_size == 64 * 1024 * 1024 and "`--max-response-size` (64 MiB)" in README


def test_the_grace_of_an_interrupted_sync_and_the_daemons_readiness() -> None:
    assert GRACE_PERIOD == 10 and "(for up to 10 s)" in README
    config = DaemonConfig(lock_dir=Path("/nonexistent"))
    assert config.ready_after_intervals == 3 and "succeeded within 3 intervals" in README
    assert (config.interval, config.resync_interval) == (60, 600)
    assert "`--interval` (60 s, with jitter" in README and "`--resync-interval` (10 min" in README
