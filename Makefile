# The two commands of the README. Both create ./.venv (with the Python on PATH) and install the project first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## make demo: generate sample data and run every asset on the embedded defaults (DuckDB file under data/demo)
demo: install
	$(BIN)/billing demo

## make test: linters, then the whole test suite
test: install lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check dagster_billing tests bench
	$(BIN)/ruff format --check dagster_billing tests bench
	# every parameter sent to Stripe is checked against the SDK's typed params
	$(BIN)/mypy dagster_billing/stripe_sync dagster_billing/local_stripe/cards.py dagster_billing/local_stripe/demo.py
	mkdir -p data/sqlfluff  # sqlfluff's dbt templater opens a warehouse file; give it a scratch one
	BILLING_WAREHOUSE_PATH=$(CURDIR)/data/sqlfluff/warehouse.duckdb $(BIN)/sqlfluff lint dbt_project/models
