# One task runner for set-up, demo, tests and benchmarks.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: install, then score the bundled real data and print the MQLs
demo: $(STAMP)
	$(BIN)/mql demo

## test: install, then lint, type-check and run every test
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -n $(JOBS) --dist loadfile --cov=mql --cov-report=term \
		--cov-fail-under=$(COVERAGE_MIN)

COVERAGE_MIN ?= 90
# Test processes: the suite is CPU-bound; one per core.
JOBS ?= 2

## bench: run the benchmarks (figures in the README)
bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
