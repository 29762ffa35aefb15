# Nestegg — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install infra setup lint bench clean-state unit integration e2e

run: install infra  ## set everything up and start the whole stack (Ctrl-C stops it)
	$(BIN)/nestegg run

test: install infra  ## the whole suite (lint, unit, integration, security, reliability, e2e)
	$(BIN)/ruff check .
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: install infra  ## benchmarks: print figures and write bench/results/*.json
	@mkdir -p bench/results
	@set -e; for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b; done

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "python3 is required: apt-get install -y python3 python3-venv"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "run: apt-get install -y python3-venv"; exit 1; }
	$(BIN)/pip install -q --upgrade "pip>=24"
	$(BIN)/pip install -q -e ".[dev]"
	@touch $(STAMP)

infra:  ## start RabbitMQ (+management), PostgreSQL and Redis if they are down
	@bash scripts/ensure-infra.sh

setup: install infra
	$(BIN)/nestegg setup

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: install
	$(BIN)/pytest -q tests/unit

clean-state:  ## forget generated local credentials and keys (databases stay)
	rm -rf .nestegg
