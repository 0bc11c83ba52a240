"""Malformed and binary YAML at every level of the tree: the node that reads the file fails, naming
itself and the file; its dependents are blocked; nothing in the cluster changes (issue 13 item 1:
a node that failed to build keeps every object it owns, and so do its children)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from trust.harness import Mutation, Scenario, World, append, append_bytes, cases, check, write

# Each file of the example, by the node that renders it, and what its failure blocks.
TREE = {
    "clusters/dev/apps.yaml": "flux-system",
    "clusters/dev/flux-system/gotk-sync.yaml": "flux-system",
    "infrastructure/kustomization.yaml": "infrastructure",
    "infrastructure/cluster-vars.yaml": "infrastructure",
    "infrastructure/cloudwatch/configmap.yaml": "infrastructure",
    "infrastructure/external-secrets/helmrelease.yaml": "infrastructure",
    "apps/app-1/base/deployment.yaml": "app-1",
    "apps/app-1/base/kustomization.yaml": "app-1",
    "apps/app-1/overlays/dev/kustomization.yaml": "app-1",
    "apps/app-1/overlays/dev/deployment-patch.yaml": "app-1",
    "apps/app-2/service.yaml": "app-2",
    "apps/app-2/configmap.yaml": "app-2",
}
BREAKAGES: dict[str, Callable[[str], Mutation]] = {
    "unclosed-flow": lambda path: append(path, "\nbroken: [unclosed\n"),
    "tab-indent": lambda path: append(path, "\nextra:\n\tkey: value\n"),
    "binary": lambda path: write(path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01\xff\xfe"),
    "bad-utf8": lambda path: append_bytes(path, b"\nbroken: \xff\xfe\xfd\n"),
    "not-a-mapping": lambda path: write(path, "- just\n- a list\n"),
}


def _scenarios() -> list[Scenario]:
    """Every breakage of every file: the node reading it fails, named with the file or itself."""
    scenarios = []
    for path, node in TREE.items():
        for name, breakage in BREAKAGES.items():
            named = rf"(Kustomization/flux-system/{node}|{re.escape(path)})"
            scenarios.append(Scenario(f"{name}-{path.removesuffix('.yaml').replace('/', '-')}",
                                      breakage(path), 1, named, failed=(node,)))
    return scenarios


SCENARIOS = _scenarios()


@pytest.mark.parametrize("scenario", cases(SCENARIOS))
def test_malformed_yaml(trust_world: World, scenario: Scenario) -> None:
    check(trust_world, scenario)
