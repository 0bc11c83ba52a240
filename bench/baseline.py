"""The baselines fluxpush is compared with: kustomize once per node, and kubectl over the same objects.

kubectl gets the objects fluxpush rendered, in fluxpush's apply order (nodes in dependency order,
each node's objects by apply stage), as one multi-document file, so it does exactly the same
work with its own client: one serial request stream, as a CI job running kubectl would.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from fluxpush.flux.model import Kustomization
from fluxpush.planning.apply_order import sort_for_apply
from fluxpush.planning.plan import FIELD_MANAGER
from fluxpush.repository.discover import Discovery, normalize_path
from fluxpush.tools import Tool, find_kustomize

KUBECTL_NAME = "kubectl"


def write_rendered(discovery: Discovery, path: Path) -> int:
    """Write every node's objects in apply order to `path`; returns how many."""
    objects = [obj for node in discovery.ordered_nodes() for obj in sort_for_apply(node.objects)]
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False), encoding="utf-8")
    return len(objects)


def build_dirs(discovery: Discovery) -> list[Path]:
    """The directory each Kustomization node builds (the repository's own, no spec merged in)."""
    root = discovery.source.root
    return [root / normalize_path(node.spec.path) for node in discovery.ordered_nodes()
            if isinstance(node.spec, Kustomization)]


def kustomize_argv(tool: Tool, directory: Path) -> list[str]:
    """One `kustomize build` as fluxpush runs it (`kubectl kustomize` when that is the tool)."""
    build = [] if len(tool.argv) > 1 else ["build"]
    return [*tool.argv, *build, str(directory), "--load-restrictor", "LoadRestrictionsNone"]


def kubectl_path() -> str:
    """The kubectl binary: the one fluxpush uses for kustomize when it is kubectl, else from PATH."""
    tool = find_kustomize()
    if Path(tool.path).name == KUBECTL_NAME:
        return tool.path
    return KUBECTL_NAME


def kubectl_argv(verb: str, kubeconfig: Path, objects: Path) -> list[str]:
    """`kubectl apply|diff --server-side` of `objects` as Flux's field manager, conflicts forced."""
    return [kubectl_path(), "--kubeconfig", str(kubeconfig), verb, "--server-side",
            f"--field-manager={FIELD_MANAGER}", "--force-conflicts", "-f", str(objects)]


def kubectl_env(cache_dir: Path) -> dict[str, str]:
    """The environment for kubectl: its discovery cache in `cache_dir`, not the user's home."""
    return {**os.environ, "KUBECACHEDIR": str(cache_dir)}
