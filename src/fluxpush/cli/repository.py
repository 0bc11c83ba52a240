"""`build`, `tree`, `validate`: verbs that read the repository alone (no cluster, SOPS values masked)."""

from __future__ import annotations

import argparse
import sys

from fluxpush.app.request import RunSettings, discover_checkout
from fluxpush.app.selection import selected_nodes
from fluxpush.cli.options import checkout_request, node_selection
from fluxpush.cli.views import build_json, dumps_json, problem_dict, render_build, render_tree
from fluxpush.errors import EXIT_FAILED, EXIT_OK
from fluxpush.repository.discover import Discovery
from fluxpush.repository.policy import find_plain_secrets


def discover_repository(args: argparse.Namespace, settings: RunSettings) -> Discovery:
    """The repository the options name, discovered without a cluster."""
    return discover_checkout(checkout_request(args, settings.environ), settings)


def report_problems(discovery: Discovery) -> None:
    """The discovery's notices and problems, on stderr."""
    for notice in discovery.notices:
        print(f"ℹ {notice}", file=sys.stderr)
    for problem in discovery.problems:
        print(f"✗ {problem}", file=sys.stderr)


def build(args: argparse.Namespace, settings: RunSettings) -> int:
    """The rendered objects in apply order (YAML, or JSON with `-o json`)."""
    selection = node_selection(args)
    discovery = discover_repository(args, settings)
    nodes = [discovery.nodes[ref] for ref in selected_nodes(discovery, selection)]
    if args.output == "json":
        sys.stdout.write(dumps_json(build_json(discovery, nodes)))
    else:
        sys.stdout.write(render_build(discovery, nodes))
        report_problems(discovery)
    return EXIT_FAILED if any(n.error for n in nodes) or discovery.problems else EXIT_OK


def tree(args: argparse.Namespace, settings: RunSettings) -> int:
    """A Kustomization's objects and child nodes, recursively."""
    selection = node_selection(args)
    discovery = discover_repository(args, settings)
    (target,) = selected_nodes(discovery, selection)  # tree's KIND and NAME are required
    sys.stdout.write(render_tree(discovery, target))
    return EXIT_OK


def validate(args: argparse.Namespace, settings: RunSettings) -> int:
    """Schema, graph and policy problems; exit 1 when there are any."""
    discovery = discover_repository(args, settings)
    problems = [*discovery.problems, *find_plain_secrets(discovery)]
    if args.output == "json":
        sys.stdout.write(
            dumps_json(
                {
                    "revision": discovery.revision,
                    "nodes": len(discovery.nodes),
                    "problems": [problem_dict(p) for p in problems],
                    "notices": [str(n) for n in discovery.notices],
                }
            )
        )
    else:
        for notice in discovery.notices:
            print(f"ℹ {notice}")
        for problem in problems:
            print(f"✗ {problem}")
        status = f"{len(problems)} problem(s) found" if problems else "✔ no problems found"
        print(f"{status} in {len(discovery.nodes)} nodes at {discovery.revision}")
    return EXIT_FAILED if problems else EXIT_OK


VERBS = {"build": build, "tree": tree, "validate": validate}


def command(args: argparse.Namespace, settings: RunSettings) -> int:
    """Run build, tree or validate."""
    return VERBS[args.verb](args, settings)
