"""Synthetic Flux repositories: N Kustomizations in a dependsOn DAG of depth D, M objects each.

Layout (every path relative to the repository root):

    clusters/bench/                  the cluster path: flux-system, a variables ConfigMap, the nodes
    apps/node-NNN/base/              the node's M objects (a Namespace first, then mixed kinds)
    apps/node-NNN/overlays/bench/    namespace, labels and a Deployment patch over the base

Every node is a child of the root and depends on one or two nodes of the layer above it, so the
longest dependsOn chain has exactly D nodes. Objects carry `${...}` variables that postBuild
fills from inline `substitute` values and from the `bench-vars` ConfigMap (`substituteFrom`).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CLUSTER_PATH = "clusters/bench"
VARS_CONFIGMAP = "bench-vars"
# Kinds cycled through after each node's Namespace: workloads, config, and RBAC, as in real apps.
KINDS = ("ConfigMap", "Deployment", "Service", "Secret", "ServiceAccount", "Role", "RoleBinding")
# The object `edit_one_object` changes: the first ConfigMap of the middle node.
EDITED_KEY = "revision"
SIZE_PATTERN = re.compile(r"^(\d+)x(\d+)(?:x(\d+))?$")
DEFAULT_MAX_DEPTH = 5  # longest dependsOn chain when a size does not name one


@dataclass(frozen=True, slots=True)
class RepoSpec:
    """The shape of a generated repository: `nodes` Kustomizations of `objects` objects each."""

    nodes: int
    objects: int
    depth: int

    def __post_init__(self) -> None:
        if self.nodes < 1 or self.objects < 1 or not 1 <= self.depth <= self.nodes:
            raise ValueError(f"need nodes ≥ 1, objects ≥ 1 and 1 ≤ depth ≤ nodes, got {self}")

    @property
    def label(self) -> str:
        """`NxM` as sizes are written on the command line."""
        return f"{self.nodes}x{self.objects}"

    @property
    def total_objects(self) -> int:
        """Objects the nodes render (the root's Namespace and ConfigMap not counted)."""
        return self.nodes * self.objects


def parse_size(text: str) -> RepoSpec:
    """`NxM` or `NxMxD`; the depth defaults to min(N, 5)."""
    match = SIZE_PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"size {text!r}: expected NxM or NxMxD, e.g. 50x50")
    nodes, objects = int(match[1]), int(match[2])
    depth = int(match[3]) if match[3] else min(nodes, DEFAULT_MAX_DEPTH)
    return RepoSpec(nodes, objects, depth)


def node_name(index: int) -> str:
    """The Kustomization (and namespace suffix) of node `index`."""
    return f"node-{index:03d}"


def node_namespace(index: int) -> str:
    """The namespace node `index` deploys into."""
    return f"bench-{index:03d}"


def layer_of(index: int, spec: RepoSpec) -> int:
    """The DAG layer (0 = no dependencies) of node `index`; layers are as even as possible."""
    return index * spec.depth // spec.nodes


def dependencies(index: int, spec: RepoSpec) -> list[int]:
    """The nodes of the layer above that node `index` depends on (one, or two when there are)."""
    layer = layer_of(index, spec)
    if layer == 0:
        return []
    above = [i for i in range(spec.nodes) if layer_of(i, spec) == layer - 1]
    picks = {above[index % len(above)], above[(index + 1) % len(above)]}
    return sorted(picks)


def edited_node(spec: RepoSpec) -> int:
    """The node whose ConfigMap `edit_one_object` changes (the middle one)."""
    return spec.nodes // 2


def _dump(docs: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)


def _write(path: Path, docs: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_dump(docs), encoding="utf-8")


def _object(kind: str, index: int, node: int) -> dict[str, Any]:
    """The `index`-th object of `node` (no namespace: the overlay sets it)."""
    name = f"{kind.lower()}-{index:03d}"
    app = {"app": f"deployment-{index - 1:03d}"}
    if kind == "ConfigMap":
        data = {"log_level": "${log_level}", "environment": "${cluster_env}", EDITED_KEY: "1"}
        return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, "data": data}
    if kind == "Deployment":
        container = {"name": "app", "image": "${image_registry}/app-" + f"{node:03d}:" + "${image_tag}",
                     "ports": [{"containerPort": 8080}],
                     "env": [{"name": "LOG_LEVEL", "value": "${log_level}"}]}
        template = {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "labels": {"app": name}},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": template}}
    if kind == "Service":
        return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name},
                "spec": {"selector": app, "ports": [{"port": 80, "targetPort": 8080}]}}
    if kind == "Secret":
        token = base64.b64encode(f"bench-{node}-{index}".encode()).decode()
        return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, "type": "Opaque",
                "data": {"token": token}}
    if kind == "ServiceAccount":
        return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}
    if kind == "Role":
        rule = {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name},
                "rules": [rule]}
    role = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"role-{index - 1:03d}"}
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name},
            "roleRef": role,
            "subjects": [{"kind": "ServiceAccount", "name": f"serviceaccount-{index - 2:03d}"}]}


def node_objects(node: int, spec: RepoSpec) -> list[dict[str, Any]]:
    """The base objects of `node`: its Namespace, then kinds in `KINDS` order, round robin."""
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": node_namespace(node)}}
    return [namespace, *(_object(KINDS[(i - 1) % len(KINDS)], i, node) for i in range(1, spec.objects))]


def _overlay(node: int) -> dict[str, Any]:
    patch = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "any"},
             "spec": {"template": {"metadata": {"annotations": {"bench.fluxpush.io/overlay": "bench"}}}}}
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "namespace": node_namespace(node), "resources": ["../../base"],
            "labels": [{"pairs": {"bench.fluxpush.io/node": node_name(node)}}],
            "patches": [{"target": {"kind": "Deployment"}, "patch": _dump([patch])}]}


def _flux_kustomization(node: int, spec: RepoSpec) -> dict[str, Any]:
    body: dict[str, Any] = {
        "interval": "10m",
        "path": f"./apps/{node_name(node)}/overlays/bench",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        "postBuild": {"substitute": {"cluster_env": "bench", "image_tag": f"1.{node}.0"},
                      "substituteFrom": [{"kind": "ConfigMap", "name": VARS_CONFIGMAP}]},
    }
    deps = dependencies(node, spec)
    if deps:
        body["dependsOn"] = [{"name": node_name(dep)} for dep in deps]
    return {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": node_name(node), "namespace": "flux-system"}, "spec": body}


def _write_cluster(root: Path, spec: RepoSpec) -> None:
    cluster = root / CLUSTER_PATH
    kustomize_api = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    _write(cluster / "kustomization.yaml",
           [{**kustomize_api, "resources": ["flux-system", "vars.yaml", "nodes.yaml"]}])
    _write(cluster / "flux-system" / "kustomization.yaml",
           [{**kustomize_api, "resources": ["namespace.yaml", "gotk-sync.yaml"]}])
    _write(cluster / "flux-system" / "namespace.yaml",
           [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}])
    meta = {"name": "flux-system", "namespace": "flux-system"}
    _write(cluster / "flux-system" / "gotk-sync.yaml", [
        {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": meta,
         "spec": {"interval": "1m", "url": "https://example.invalid/bench.git", "ref": {"branch": "main"}}},
        {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": meta,
         "spec": {"interval": "10m", "path": f"./{CLUSTER_PATH}", "prune": True,
                  "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}},
    ])
    _write(cluster / "vars.yaml", [{
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": VARS_CONFIGMAP, "namespace": "flux-system"},
        "data": {"image_registry": "registry.example.invalid/bench", "log_level": "info"},
    }])
    _write(cluster / "nodes.yaml", [_flux_kustomization(i, spec) for i in range(spec.nodes)])


def generate_repo(root: Path, spec: RepoSpec) -> Path:
    """Write the repository for `spec` under `root` (created; must not hold an older one)."""
    if (root / CLUSTER_PATH).exists():
        raise FileExistsError(f"{root} already holds a generated repository")
    _write_cluster(root, spec)
    kustomize_api = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    for node in range(spec.nodes):
        app = root / "apps" / node_name(node)
        objects = node_objects(node, spec)
        files = [f"{index:03d}-{obj['kind'].lower()}.yaml" for index, obj in enumerate(objects)]
        for file, obj in zip(files, objects, strict=True):
            _write(app / "base" / file, [obj])
        _write(app / "base" / "kustomization.yaml", [{**kustomize_api, "resources": files}])
        _write(app / "overlays" / "bench" / "kustomization.yaml", [_overlay(node)])
    return root


def edited_file(root: Path, spec: RepoSpec) -> Path:
    """The file `edit_one_object` changes."""
    return root / "apps" / node_name(edited_node(spec)) / "base" / "001-configmap.yaml"


def edit_one_object(root: Path, spec: RepoSpec, revision: str) -> tuple[str, str]:
    """Set the `revision` key of the middle node's first ConfigMap; returns its (namespace, name).

    Needs M ≥ 2 (a node's second object is its first ConfigMap).
    """
    if spec.objects < 2:
        raise ValueError("a node needs at least 2 objects to hold a ConfigMap")
    path = edited_file(root, spec)
    (obj,) = yaml.safe_load_all(path.read_text(encoding="utf-8"))
    obj["data"][EDITED_KEY] = revision
    _write(path, [obj])
    return node_namespace(edited_node(spec)), obj["metadata"]["name"]
