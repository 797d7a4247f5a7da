# Vaarwater — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
# The newest Python >= 3.11 on PATH: Django 6 runs on 3.12+, Django 5.2 LTS on 3.11.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_DEBTORS ?= 500
DEMO_DIR ?= var/demo
PYTEST_WORKERS ?= auto

.PHONY: install demo serve test test-sqlite test-postgres lint bench bench-run clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: install
	$(BIN)/vaarwater demo --debtors $(DEMO_DEBTORS) --dir $(DEMO_DIR)
	@# The SMS/WhatsApp provider simulator runs beside the web app and stops with it.
	$(BIN)/vaarwater simulator --port 8025 --webhook-base http://$(HOST):$(PORT) & SIM=$$!; \
	trap 'kill $$SIM 2>/dev/null' EXIT INT TERM; \
	$(BIN)/vaarwater runserver --noreload $(HOST):$(PORT)

test: install
	$(BIN)/ruff check vaarwater bench
	$(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider
	@if [ -n "$$VAARWATER_TEST_DATABASE_URL" ]; then \
		echo "== again on $$VAARWATER_TEST_DATABASE_URL =="; \
		VAARWATER_DATABASE_URL="$$VAARWATER_TEST_DATABASE_URL" $(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider; \
	fi

lint: install
	$(BIN)/ruff check vaarwater bench
	$(BIN)/ruff format --check vaarwater bench

bench: install
	$(BIN)/python -m bench.import_bench
	$(BIN)/python -m bench.run_bench
	$(BIN)/python -m bench.statement_bench
	$(BIN)/python -m bench.queue_bench

bench-run: install
	$(BIN)/python -m bench.run_bench

clean:
	rm -rf $(VENV) var build *.egg-info
