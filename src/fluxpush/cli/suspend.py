"""`suspend ks NAME` / `resume ks NAME`: set or clear the suspended mark in the node's stored
inventory, which `apply` honours."""

from __future__ import annotations

import argparse

from fluxpush.app.request import RunSettings
from fluxpush.app.selection import select
from fluxpush.app.usecases import set_suspended
from fluxpush.cli.options import cluster_target, node_selection
from fluxpush.cli.repository import discover_repository
from fluxpush.errors import EXIT_OK, UsageError


def command(args: argparse.Namespace, settings: RunSettings) -> int:
    """Suspend or resume the node `KIND NAME` names."""
    suspended = args.verb == "suspend"
    selection = node_selection(args)
    refs = select(discover_repository(args, settings), selection)
    if not refs:
        raise UsageError(f"{args.verb} needs KIND NAME, e.g. fluxpush {args.verb} ks NAME")
    set_suspended(cluster_target(args, settings.environ), refs[0], suspended)
    print(f"✔ {refs[0]} {'suspended' if suspended else 'resumed'}")
    return EXIT_OK
