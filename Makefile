# segment-livelike-emulator — developer entry points.  `make help` lists them.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=

.DEFAULT_GOAL := help

.PHONY: help emulate test lint bench browser clean

help:  ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The stamps re-run pip only when pyproject.toml changes.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

emulate: $(VENV)/.installed  ## Set up .venv and run the local stack (Ctrl-C stops it).
	$(BIN)/seglike up $(ARGS)

test: $(VENV)/.installed-test  ## Set up .venv with the test extras and run the whole suite.
	$(BIN)/python -m pytest $(ARGS)

lint: $(VENV)/.installed-test  ## Check style with ruff.
	$(BIN)/ruff check emulator tests bench
	$(BIN)/ruff format --check emulator tests bench

bench: $(VENV)/.installed-test  ## Run the benchmarks and print their figures.
	$(BIN)/python -m bench $(ARGS)

browser:  ## Install Debian's chromium for the browser test.
	@if [ -x /usr/bin/chromium ]; then \
		echo "chromium is installed: /usr/bin/chromium"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		{ apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
			|| echo "apt-get could not install chromium; the browser test will be skipped."; \
	else \
		echo "Install Debian's chromium as root (apt-get install -y chromium);" \
			"without it the browser test is skipped."; \
	fi

clean:  ## Remove the virtualenv, caches and the local store.
	rm -rf $(VENV) .seglike .pytest_cache .ruff_cache dist build
