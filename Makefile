# The same commands for people and CI. `make test` and `make demo` work on a fresh machine:
# they create .venv, install fluxpush with its test extras and the pinned kustomize/helm.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXAMPLE := examples/gitops-platform
# The sandbox cluster's objects are kept here between the demo's commands.
DEMO_STATE := $(VENV)/demo-sandbox.json
ON_EXAMPLE := --repo $(EXAMPLE) --path clusters/dev --sandbox --sandbox-state $(DEMO_STATE)

.PHONY: setup tools system-deps container-image test lint lock demo bench clean

# Dependencies come from hash-pinned lock files (pip-tools, `make lock`): the test lock holds the
# runtime and test dependencies, the build lock the build backend; fluxpush itself goes in last
# with --no-deps, so nothing unpinned is ever installed.
LOCKS := requirements.lock requirements-test.lock requirements-build.lock
PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

$(STAMP): pyproject.toml $(LOCKS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-test.lock -r requirements-build.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Re-pin after editing pyproject.toml (existing pins are kept unless they no longer fit;
# `make lock UPGRADE=1` moves everything to the newest versions).
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/pip-compile || $(BIN)/python -m pip install --quiet pip-tools
	$(PIP_COMPILE) $(if $(UPGRADE),--upgrade) --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) $(if $(UPGRADE),--upgrade) --extra test --output-file requirements-test.lock pyproject.toml
	$(PIP_COMPILE) $(if $(UPGRADE),--upgrade) --all-build-deps --only-build-deps \
		--output-file requirements-build.lock pyproject.toml

tools: $(STAMP)
	$(BIN)/python -m fluxpush.tools install

# Debian packages installed when we are root on a Debian-like machine (CI); otherwise the tests that
# need them skip and say what to install. docker-registry serves OCI charts to the Helm tests;
# buildah, podman, runc and debootstrap build and run the action's image (tests/container).
SYSTEM_PACKAGES := docker-registry buildah podman runc debootstrap
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
		|| echo "warning: $$missing could not be installed; the tests that need them will skip"; \
	fi
	@.ci/podman-defaults

setup: tools system-deps

# The action's image from the Dockerfile, built with buildah as root (tests/container/image.py): reused
# while Dockerfile, entrypoint/, pyproject.toml, README.md and src/ are unchanged. Built here, before
# pytest, so the parallel test workers never wait on it.
container-image: $(STAMP) system-deps
	@if command -v buildah >/dev/null && command -v podman >/dev/null && [ "$$(id -u)" = 0 ]; then \
		$(BIN)/python tests/container/image.py --timing; \
	else \
		echo "buildah/podman as root not available: the container tests will skip"; \
	fi

test: setup container-image
	$(BIN)/python -m pytest -n 2 -q

# Style gates (CI runs them before the tests): ruff (with the C901 complexity bound), mypy strict
# on src/, and the import-layer contracts in pyproject.toml ([tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

demo: setup
	$(BIN)/fluxpush version
	$(BIN)/fluxpush get all --repo $(EXAMPLE) --path clusters/dev
	rm -f $(DEMO_STATE)
	@echo "== apply to a fresh sandbox cluster: the plan, then each node's result"
	$(BIN)/fluxpush apply $(ON_EXAMPLE) --no-notify
	@echo "== diff after the apply: nothing left to change (exit 0)"
	$(BIN)/fluxpush diff $(ON_EXAMPLE)

# Benchmarks (not part of the test suite): BENCH_ARGS="--sizes 10x20 --latency 0 --scenarios plan" for a quick one.
bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
