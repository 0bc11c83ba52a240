"""`fluxpush get ks|hr|all|images`: the repository's nodes (and image policies) as tables or JSON;
with a cluster (`--kubeconfig`, `$KUBECONFIG`, `--context`, `--eks-cluster`, `--sandbox`) also their
stored status, read through one client."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fluxpush.app.request import RunSettings
from fluxpush.app.selection import KIND_ALIASES
from fluxpush.cli.images import get_images
from fluxpush.cli.options import cluster_target, names_a_cluster
from fluxpush.cli.repository import discover_repository, report_problems
from fluxpush.cli.views import (
    dumps_json,
    flux_object_table,
    get_json,
    helmrelease_live_table,
    helmrelease_table,
    kustomization_table,
    live_status_table,
)
from fluxpush.errors import EXIT_OK
from fluxpush.flux.model import ObjectRef
from fluxpush.repository.discover import Discovery

Status = dict[ObjectRef, dict[str, Any]]


def _live_status(args: argparse.Namespace, settings: RunSettings, discovery: Discovery) -> Status | None:
    if not names_a_cluster(args, settings.environ):
        return None
    from fluxpush.app.usecases import cluster_status  # the cluster client: only with a cluster

    releases = args.kind in ("all", "hr", "helmreleases")
    return cluster_status(cluster_target(args, settings.environ), discovery, releases=releases)


def _print_json(discovery: Discovery, kind: str, live: Status | None) -> None:
    kinds = ["Kustomization", "HelmRelease"] if kind == "all" else [KIND_ALIASES[kind]]
    entries = get_json(discovery, kinds)
    for entry in entries:
        ref = ObjectRef(entry["kind"], entry["namespace"], entry["name"])
        if live is not None and ref in live:
            entry["live"] = live[ref]
    sys.stdout.write(dumps_json(entries))


def _tables(discovery: Discovery, kind: str, live: Status | None) -> list[str]:
    def of_kind(flux_kind: str) -> Status:
        return {ref: value for ref, value in (live or {}).items() if ref.kind == flux_kind}

    sections = []
    if kind in ("all", "ks", "kustomizations"):
        sections.append(kustomization_table(discovery))
        if live is not None:
            sections.append(live_status_table(of_kind("Kustomization")))
    if kind in ("all", "hr", "helmreleases"):
        sections.append(helmrelease_table(discovery))
        if live is not None:
            sections.append(helmrelease_live_table(of_kind("HelmRelease")))
    if kind == "all":
        sections.append(flux_object_table(discovery))
    return sections


def command(args: argparse.Namespace, settings: RunSettings) -> int:
    """List the nodes of `KIND` (or every kind, or the image policies)."""
    discovery = discover_repository(args, settings)
    if args.kind == "images":
        return get_images(args, settings, discovery)
    live = _live_status(args, settings, discovery)
    if args.output == "json":
        _print_json(discovery, args.kind, live)
        return EXIT_OK
    sys.stdout.write("\n".join(_tables(discovery, args.kind, live)))
    report_problems(discovery)
    return EXIT_OK
