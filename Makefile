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

.PHONY: help env pipeline test test-faults test-deploy test-fast lint format data clean bench ui docs ci environments

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

test: env ## all tests but the workflow runs and the fault family (unit, data, model, service, ...)
	$(BIN)/pytest -m "not workflows and not faults" $(PYTEST_ARGS)

test-faults: env ## the fault family: registry killed and raced, corrupted remote, failed deploys
	$(BIN)/pytest -m faults $(PYTEST_ARGS)

test-deploy: env ## target ssh against a real sshd, nginx and supervisord on loopback
	$(BIN)/pytest -m deploy $(PYTEST_ARGS)

test-fast: env ## the tests that start no server
	$(BIN)/pytest -m "not integration and not slow and not workflows and not faults" $(PYTEST_ARGS)

lint: env ## ruff, mypy, zizmor, GitHub schemas, shellcheck, generated action docs
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/zizmor --offline --persona auditor .github/workflows .github/dependabot.yml actions
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema custom.github-workflows-require-timeout .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions actions/*/action.yml tests/workflows/standins/*/*/action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(BIN)/shellcheck .ci/run
	$(BIN)/python scripts/shellcheck_steps.py
	$(BIN)/python scripts/action_docs.py --check

docs: env ## regenerate actions/*/README.md and docs/actions.md
	$(BIN)/python scripts/action_docs.py

ci: env ## PR, main, retraining and rollback workflows offline with act (slow)
	UV="$(abspath $(UV))" $(BIN)/pytest -m workflows tests/workflows $(PYTEST_ARGS)

environments: env ## apply .github/environments.yml (needs GH_TOKEN)
	$(LIFECYCLE) environments

format: env ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix src tests benchmarks scripts
	$(BIN)/ruff format src tests benchmarks scripts

ui: env ## open the MLflow UI on the embedded registry (http://127.0.0.1:5000)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db --host 127.0.0.1 --port 5000

bench: env ## the benchmarks: pipeline, gates, serving, drift, batch scoring (figures, no thresholds; about 6 minutes)
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_gates.py
	$(BIN)/python benchmarks/bench_serving.py
	$(BIN)/python benchmarks/bench_drift.py
	$(BIN)/python benchmarks/bench_score.py

clean: ## remove local state (embedded registry, reports, bentos, environment)
	rm -rf mlruns reports predictions .bentoml .venv .tools .pytest_cache
