# The two commands: `make up` runs the system, `make test` runs every check against real services.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
IOC := $(BIN)/ioc

.PHONY: up down test install system lint typecheck architecture unit lock clean

# `ioc up` starts the stack, migrates, runs the services and the simulator, and prints the wall's URL.
up: install
	$(IOC) up

down:
	@if [ -x $(IOC) ]; then $(IOC) services stop; $(IOC) stack down; fi

test: install lint typecheck architecture
	$(BIN)/pytest

install: system $(VENV)/.installed

system:
	@deploy/local/install-system.sh

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m ingest.contract.schema_export --check docs/contract

typecheck: $(VENV)/.installed
	$(BIN)/mypy

architecture: $(VENV)/.installed
	$(BIN)/lint-imports

# Pure-logic tests only (no services).
unit: $(VENV)/.installed
	$(BIN)/pytest -m "not integration"

lock:
	rm -rf /tmp/ioc-lock && $(PYTHON) -m venv /tmp/ioc-lock
	/tmp/ioc-lock/bin/pip install -q -e '.[dev]'
	{ echo "# Pinned versions for reproducible installs: pip install -c constraints.txt -e '.[dev]'"; \
	  echo "# Regenerate with: make lock"; /tmp/ioc-lock/bin/pip freeze --exclude-editable; } > constraints.txt

clean: down
	rm -rf .ioc $(VENV)
