# The two commands: `make up` runs the system, `make test` runs every check against real services.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
IOC := $(BIN)/ioc

.PHONY: up down test verify install system lint typecheck architecture unit lock clean

# `ioc up` starts the stack, migrates, runs the services and the simulator, and prints the wall's URL.
up: install
	$(IOC) up

down:
	@if [ -x $(IOC) ]; then $(IOC) services stop; $(IOC) stack down; fi

# The tests get a stack of their own (unless IOC_HOME and the ports are set, as CI sets them): the
# demo's ingest session on the broker of `make up` must not collect what the tests publish.
TEST_STACK := IOC_HOME=$${IOC_HOME:-$(CURDIR)/.ioc-test} IOC_PG_PORT=$${IOC_PG_PORT:-15482} \
	IOC_MQTT_PORT=$${IOC_MQTT_PORT:-11933} IOC_REDIS_PORT=$${IOC_REDIS_PORT:-16429} IOC_API_PORT=$${IOC_API_PORT:-18130} \
	IOC_ALERTMANAGER_PORT=$${IOC_ALERTMANAGER_PORT:-19193}

test: install lint typecheck architecture
	$(TEST_STACK) $(BIN)/pytest

# The verification suites at full scale (faults under sustained load, fuzzing, the soak): about an
# hour. Writes verify-report.md, kept in the repository. `make test` runs the same suites smaller.
verify: install
	$(TEST_STACK) $(BIN)/pytest tests/verify --verify-profile full --verify-report verify-report.md -o timeout=3600

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
	$(BIN)/python -m cli.configuration_doc --check docs/configuration.md

typecheck: $(VENV)/.installed
	$(BIN)/mypy

architecture: $(VENV)/.installed
	$(BIN)/lint-imports

# Pure-logic tests only (no services).
unit: $(VENV)/.installed
	$(TEST_STACK) $(BIN)/pytest -m "not integration"

lock:
	rm -rf /tmp/ioc-lock && $(PYTHON) -m venv /tmp/ioc-lock
	/tmp/ioc-lock/bin/pip install -q -e '.[dev]'
	{ echo "# Pinned versions for reproducible installs: pip install -c constraints.txt -e '.[dev]'"; \
	  echo "# Regenerate with: make lock"; /tmp/ioc-lock/bin/pip freeze --exclude-editable; } > constraints.txt

clean: down
	@if [ -x $(IOC) ] && [ -d .ioc-test ]; then $(TEST_STACK) $(IOC) stack down; fi
	rm -rf .ioc .ioc-test $(VENV)
