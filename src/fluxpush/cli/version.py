"""`fluxpush version`: fluxpush's version and the kustomize and helm binaries it would run."""

from __future__ import annotations

import argparse
import sys

from fluxpush import __version__
from fluxpush.app.request import RunSettings
from fluxpush.errors import EXIT_FAILED, EXIT_OK, FluxpushError, ToolError
from fluxpush.tools import find_helm, find_kustomize, is_pinned_version, tool_version


def command(args: argparse.Namespace, settings: RunSettings) -> int:
    """Print the versions; exit 1 when a binary is missing or does not run."""
    print(f"fluxpush {__version__}")
    for finder in (find_kustomize, find_helm):
        try:
            tool = finder()
            version = tool_version(tool)
            note = "" if is_pinned_version(tool, version) else "  (untested version)"
            print(f"{tool.name}: {version} {' '.join(tool.argv)} (from {tool.found_by}){note}")
        except (ToolError, FluxpushError) as exc:
            print(f"✗ {exc}", file=sys.stderr)
            return EXIT_FAILED
    return EXIT_OK
