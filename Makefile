# The same commands for people and CI. Only python3 (>= 3.11), git and make are needed:
# uv is installed into .tools/ when it is not on PATH, and the locked environment is synced.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION ?= 0.13.9
# never download a Python build: use the python3 (>= 3.11) already on the machine
export UV_PYTHON_DOWNLOADS := never
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
LIFECYCLE := $(BIN)/lifecycle
PYTEST_ARGS ?=

.PHONY: help env pipeline test test-fast lint format data clean bench ui

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.tools/bin/uv:
	@echo "uv not found: installing uv $(UV_VERSION) into .tools/"
	python3 -m venv .tools
	.tools/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --compile-bytecode
	@touch $@

env: $(VENV)/.synced ## install the locked environment (uv sync --locked)

data: env ## fetch the DVC-tracked data (dvc pull from the configured remote)
	$(LIFECYCLE) pull

pipeline: env ## the whole local lifecycle on the embedded defaults
	$(LIFECYCLE) pipeline

test: env ## all tests (unit, data, model, service, integration)
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: env ## the tests that start no server
	$(BIN)/pytest -m "not integration and not slow and not workflows" $(PYTEST_ARGS)

lint: env ## ruff, workflow and action checks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: env ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

ui: env ## open the MLflow UI on the embedded registry (http://127.0.0.1:5000)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db --host 127.0.0.1 --port 5000

bench: env ## the benchmarks (figures, no thresholds)
	$(BIN)/python benchmarks/bench_pipeline.py

clean: ## remove local state (embedded registry, reports, bentos, environment)
	rm -rf mlruns reports predictions .bentoml .venv .tools .pytest_cache
