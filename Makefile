# The two commands a newcomer needs: `make run` and `make test`. Both set everything up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
# The native sources (state tree, hashing, value table) are built by the install, so an edit
# to one reinstalls too.
NATIVE := src/rantai/crypto/_smt.c src/rantai/crypto/_hashing.c src/rantai/core/_values.c
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt $(NATIVE) | sha256sum | cut -c1-12)
DATA ?= data
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup run test check lint typecheck imports clean chromium libssl-dev

$(STAMP): pyproject.toml constraints.txt $(NATIVE) | libssl-dev
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

## run: the node and its API on http://127.0.0.1:8000, seeded with the demo chain in $(DATA)/
## on first run (audited before serving); Ctrl-C stops it cleanly
run: setup
	test -f $(DATA)/chain.json || $(BIN)/rantai demo --data $(DATA)
	$(BIN)/rantai verify --data $(DATA)
	$(BIN)/rantai up --data $(DATA) --port $(PORT) --demo

## check: lint, format, strict types, the import contract that keeps the core pure
check: setup lint typecheck imports

lint:
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck:
	$(BIN)/mypy

imports:
	$(BIN)/lint-imports

## test: everything CI runs (the browser tests need Debian's chromium: installed here if missing)
test: check chromium
	$(BIN)/pytest -q -p no:cacheprovider

## chromium: Debian's chromium for the dashboard's browser tests (tests/e2e), from apt
chromium:
	command -v chromium >/dev/null || ( $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium )

## libssl-dev: OpenSSL's headers, for the native state tree's SHA-256 (libcrypto), from apt
libssl-dev:
	test -f /usr/include/openssl/sha.h || ( $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libssl-dev )

clean:
	rm -rf $(VENV) $(DATA) .mypy_cache .ruff_cache .pytest_cache
