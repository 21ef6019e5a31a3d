# Everything the project needs is installed by `make venv`; every other target depends on it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint unit demo status-page bench bench-quick bench-startup bench-push fuzz soak chaos clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check reconciler tests bench
	$(BIN)/ruff format --check reconciler tests bench
	$(BIN)/mypy --strict reconciler
	$(BIN)/bandit -q -r reconciler

unit: venv
	$(BIN)/pytest -q

test: lint unit

demo: venv
	$(BIN)/python scripts/demo.py

# docs/status-page.png: the daemon's page at / after a demo-like sync, drawn by headless Chromium.
status-page: venv
	$(BIN)/python scripts/status_page.py

# Benchmarks (bench/README.md): a table on stdout, records in bench/results.json; non-zero exit when a
# run does not converge or a request-count bound is broken. Nothing is asserted about time.
bench-quick: venv
	$(BIN)/python -m bench.suite --quick

bench: venv
	$(BIN)/python -m bench.suite
	$(BIN)/python -m bench.emulator_throughput

# The whole command as users wait for it (--version, --help, validate, a no-op diff), median of 5
# processes each, with a breakdown; bench/results-startup.json.
bench-startup: venv
	$(BIN)/python -m bench.startup

# git push to applied in APIM through the webhook (emulator, git daemon and the daemon as processes),
# 20 pushes at N = 100 and N = 1,000: p50, p95, max and where the time goes; bench/results-push.json.
bench-push: venv
	$(BIN)/python -m bench.push_to_applied

# A long run of the property tests (the loader fuzz and the planner's ownership and prune guards).
fuzz: venv
	RECONCILER_FUZZ_EXAMPLES=20000 $(BIN)/pytest -q tests/property

# The daemon holding 10,000 APIs and 1,000 applications, syncing small changes for 10 minutes
# (make test runs the same test for 60 s over 2,000 APIs).
soak: venv
	RECONCILER_SOAK_SECONDS=600 RECONCILER_SOAK_APIS=10000 RECONCILER_SOAK_RESULTS=bench/results-soak.json \
		$(BIN)/pytest -q -s tests/soak

# The chaos soak (docs/reliability.md): the daemon for 10 minutes while a driver pushes commits, kills
# and restarts it, the emulator and the git server, injects storms and rotates its token; then one
# sync must converge (make test runs the same test for 60 s).
chaos: venv
	RECONCILER_CHAOS_SECONDS=600 RECONCILER_CHAOS_RESULTS=bench/results-chaos.json \
		$(BIN)/pytest -q -s tests/chaos

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
