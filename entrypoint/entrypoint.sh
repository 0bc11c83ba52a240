#!/bin/sh
# The fluxpush action's container entrypoint.
#
# The runner mounts the checkout at $GITHUB_WORKSPACE (/github/workspace), owned by the runner's user.
# git refuses to read a repository owned by someone else unless it is a safe.directory; the image
# allows /github/workspace in its system config, and this adds the actual workspace through git's
# environment-variable config (no file is written). Then the action runs from the workspace.
set -eu

workspace="${GITHUB_WORKSPACE:-/github/workspace}"
export GIT_CONFIG_COUNT=1
export GIT_CONFIG_KEY_0=safe.directory
export GIT_CONFIG_VALUE_0="$workspace"

cd "$workspace"
exec python -m fluxpush.action "$@"
