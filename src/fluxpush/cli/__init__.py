"""The `fluxpush` command line: verbs shaped after the `flux` CLI, one module per verb group.

    parser      every verb's options (`options`: the shared groups; `help`: descriptions, exit codes)
    version     version
    repository  build, tree, validate: the repository alone
    get         get: the repository, with a cluster also its stored status
    run         diff, plan, apply, reconcile: against a cluster (`stream` prints the run live)
    suspend     suspend, resume
    images      image-update

The face turns argv and the process environment into the composition root's requests
(`fluxpush.app`) and results into text; a verb's module loads only when that verb runs, so `build`
never loads the cluster client.

Exit codes: 0 ok, 1 failure (a build failed, validation found problems, the cluster is unreachable
or refused, a tool failed), 2 usage error; `diff` as `flux diff`: 1 changes, 2 usage error or failure.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
from typing import Protocol

from fluxpush.app.request import RunSettings, run_settings
from fluxpush.cli.parser import build_parser
from fluxpush.errors import EXIT_DIFF_FAILED, EXIT_FAILED, EXIT_USAGE, FluxpushError, UsageError
from fluxpush.redact import redacting_streams, register_environment_secrets
from fluxpush.tools import choose_binaries

# The module (under fluxpush.cli) whose `command` runs each verb.
VERB_MODULES = {
    "version": "version",
    **dict.fromkeys(("build", "tree", "validate"), "repository"),
    "get": "get",
    **dict.fromkeys(("diff", "plan", "apply", "reconcile"), "run"),
    **dict.fromkeys(("suspend", "resume"), "suspend"),
    "image-update": "images",
}


class Command(Protocol):
    """A verb group's entry: parsed arguments and the run's settings in, an exit code out."""

    def __call__(self, args: argparse.Namespace, settings: RunSettings) -> int: ...


def command(verb: str) -> Command:
    """The function that runs `verb` (its module loads now)."""
    module = importlib.import_module(f"fluxpush.cli.{VERB_MODULES[verb]}")
    found: Command = module.command
    return found


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `fluxpush` console script."""
    args = build_parser().parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):  # stream line by line into pipes too (CI logs)
        sys.stdout.reconfigure(line_buffering=True)
    choose_binaries(kustomize=args.kustomize, helm=args.helm)
    register_environment_secrets(os.environ)
    with redacting_streams():
        return _run_verb(args, run_settings(os.environ))


def _run_verb(args: argparse.Namespace, settings: RunSettings) -> int:
    try:
        return command(args.verb)(args, settings)
    except FluxpushError as exc:  # one line, no traceback: 2 for usage, the verb's failure code otherwise
        print(f"✗ {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else failure_exit(args.verb)


def failure_exit(verb: str) -> int:
    """The exit code of a failure that is not a usage error (the cluster unreachable or refusing, a
    tool or render failure): 1, except for `diff`, whose 1 means "changes" (2, as `flux diff`)."""
    return EXIT_DIFF_FAILED if verb == "diff" else EXIT_FAILED


__all__ = ["build_parser", "main"]
