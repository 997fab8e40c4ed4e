# Quick start: `make demo`, then `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench docs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/fastapi-architect routes examples/bookshop
	$(BIN)/fastapi-architect review examples/bookshop --exit-zero

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/python -m fastapi_architect.review.ruledocs docs/rules
	$(BIN)/python -m fastapi_architect.contract.catalog docs/contract-changes.md

bench: $(STAMP)
	$(BIN)/python bench/review_throughput.py

clean:
	rm -rf $(VENV) .venv-3.* .pytest_cache .mypy_cache .ruff_cache bench/.work
