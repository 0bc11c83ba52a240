"""`fluxpush image-update`: write the images ImagePolicies choose into the marked fields."""

from __future__ import annotations

import argparse

from fluxpush.app.request import RunSettings
from fluxpush.cli.get import live_secrets
from fluxpush.cli.repository import discover_repository
from fluxpush.images import cli as images_cli


def command(args: argparse.Namespace, settings: RunSettings) -> int:
    """Resolve the policies and update the repository (secrets from the cluster, when one is named)."""
    with live_secrets(args, settings) as secrets:
        return images_cli.cmd_image_update(discover_repository(args, settings), secrets, args.dry_run)
