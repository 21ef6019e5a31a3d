"""What the README states outside its code blocks that a test can hold it to. The numbers that no flag
shows (the flag table is generated from the parser and checked by tests/cli/test_flag_table.py) are
the code's: change one, and the README with it; the behaviour behind each is tested where it lives
(tests/apim, tests/apply, tests/daemon). The users file it shows works as it says."""

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


def test_the_users_file_shown_works_as_described() -> None:
    """The README's users file, given to the emulator: environments by id or HRID, `*` organizations,
    personal access tokens, and APIM's answers for a wrong token and a foreign organization."""
    import json

    import httpx

    from reconciler.emulator import EmulatorConfig, start_emulator

    section = README[README.index("### Users file") :]
    start = section.index("```json\n") + len("```json\n")
    users = json.loads(section[start : section.index("\n```", start)])
    with start_emulator(EmulatorConfig(users=users)) as emulator:

        def get(token: str, org: str, env: str) -> httpx.Response:
            url = f"{emulator.base_url}/management/v2/organizations/{org}/environments/{env}"
            return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)

        assert get("my-pat", "acme", "prod").json()["name"] == "Production"  # by HRID, any organization
        assert get("my-pat", "acme", "prod-env-id").status_code == 200
        assert get("emulator-token", "DEFAULT", "default").status_code == 200
        assert get("emulator-token", "acme", "prod").status_code == 403  # not one of its organizations
        refused = get("no-such-token", "DEFAULT", "DEFAULT")
        assert (refused.status_code, refused.content) == (401, b"")
        unknown = get("my-pat", "acme", "staging")
        assert unknown.status_code == 400 and unknown.json() == {
            "httpStatus": 400,
            "message": "Invalid organization or environment",
        }
