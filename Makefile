# Two entry points for a fresh machine: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export NEWSLOOM_DATA_DIR ?= $(CURDIR)/.newsloom

.PHONY: run test install install-dev browser tools lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, initialise the SQLite database, subscribe the default sources once, poll, serve
run: install
	$(BIN)/newsloom run

browser:
	bash scripts/install-browser.sh

## tools: newsboat and tmux (the real Google Reader API client of tests/apps) and wrk (bench/), from Debian
tools:
	bash scripts/install-tools.sh

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

unit: install-dev
	$(BIN)/python -m pytest -q

## make test: lint, type-check, then the whole test suite (real SQLite, PostgreSQL, loopback HTTP, Chromium)
test: install-dev browser tools lint unit

clean:
	rm -rf $(VENV) .newsloom .pytest_cache .mypy_cache .ruff_cache
