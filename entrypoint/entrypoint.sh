#!/bin/bash
# The fluxpush action's container entrypoint (exec form, absolute path, as GitHub asks of Docker actions).
#
# bash, not sh: the runner passes inputs as `INPUT_CLUSTER-PATH`, `INPUT_DRY-RUN`, ... and dash (Debian's
# /bin/sh) silently drops environment variables whose names are not shell names, so every input with a
# dash would vanish before Python starts. bash keeps them in the environment it hands to `exec`.
#
# The runner mounts the checkout at /github/workspace, owned by the runner's user, not by root. git
# refuses to read a repository owned by someone else unless it is a safe.directory; this allows the
# actual workspace through git's environment-variable config (no file is written). Then the action runs
# from the workspace, and hands the files it created there back to the workspace's owner on exit.
set -euo pipefail

workspace="${GITHUB_WORKSPACE:-/github/workspace}"
export GIT_CONFIG_COUNT=1
export GIT_CONFIG_KEY_0=safe.directory
export GIT_CONFIG_VALUE_0="$workspace"

cd "$workspace"
exec python -m fluxpush.action "$@"
