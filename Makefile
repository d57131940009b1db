# CSP Storefront — everyday commands. `make` alone lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
ARGS ?=
PROCESSES ?=

.PHONY: help venv run test lint format migrate seed screenshots bench

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(VENV)/.installed ## Create .venv with Python 3.11+ and install the project with its dev tools

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or newer."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "CSP Storefront needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) -V 2>&1)."; \
		echo "Install it, or point make at it: make PYTHON=python3.11 ..."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

migrate: venv ## Apply database migrations
	$(BIN)/python manage.py migrate

seed: venv ## Load the demo catalog, accounts and settings (idempotent)
	$(BIN)/python manage.py seed_demo

run: venv migrate seed ## Start web, worker, beat and the sandbox (PROCESSES="web worker" for fewer)
	PATH="$(BIN):$$PATH" $(BIN)/honcho start -f Procfile $(PROCESSES)

test: venv ## Run the tests; pass pytest options with ARGS="-k checkout -x"
	$(BIN)/python -m pytest $(ARGS)

lint: venv ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

screenshots: venv ## Refresh docs/screenshots/ from the browser journeys
	SAVE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser -q

bench: venv ## Benchmarks on PostgreSQL and Redis behind gunicorn; prints the table (see bench/RESULTS.md)
	$(BIN)/python bench/run.py
