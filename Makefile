# The same commands for people and CI. `make test` and `make demo` work on a fresh machine:
# they create .venv, install fluxpush with its test extras and the pinned kustomize/helm.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXAMPLE := examples/gitops-platform

.PHONY: setup tools test lint demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

tools: $(STAMP)
	$(BIN)/python -m fluxpush.tools install

setup: tools

test: setup
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check src tests

demo: setup
	$(BIN)/fluxpush version
	$(BIN)/fluxpush get all --repo $(EXAMPLE) --path clusters/dev
	$(BIN)/fluxpush build --repo $(EXAMPLE) --path clusters/dev

clean:
	rm -rf $(VENV) .pytest_cache
