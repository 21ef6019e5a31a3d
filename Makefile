# Everything the project needs is installed by `make venv`; every other target depends on it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint unit demo bench bench-quick fuzz clean

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

bench-quick: venv
	$(BIN)/python -m bench.validate_throughput --files 1000

bench: bench-quick
	$(BIN)/python -m bench.emulator_throughput

# A long run of the property tests (the loader fuzz and the planner's ownership and prune guards).
fuzz: venv
	RECONCILER_FUZZ_EXAMPLES=20000 $(BIN)/pytest -q tests/property

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
