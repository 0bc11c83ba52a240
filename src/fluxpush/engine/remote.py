"""Nodes that target another cluster (`spec.kubeConfig`) never touch the current one.

kustomize-controller and helm-controller apply such a node with the kubeconfig of the referenced
Secret (or, with `configMapRef`, a cloud provider's workload identity). fluxpush does not talk to a
second cluster yet, so planning or applying such a node against the current cluster would compare
with, and write to, the wrong cluster: it fails instead, naming the field and the fix.
"""

from __future__ import annotations

from typing import Any

from fluxpush.flux.model import FluxObject


def kube_config_of(spec: FluxObject) -> dict[str, Any] | None:
    """`spec.kubeConfig` of a Kustomization or HelmRelease, when set."""
    value = (spec.raw.get("spec") or {}).get("kubeConfig")
    return value if isinstance(value, dict) and value else None


def describe_target(kube_config: dict[str, Any]) -> str:
    """`Secret/<name> key value` or `ConfigMap/<name>`: where the remote cluster is described."""
    secret = kube_config.get("secretRef")
    if isinstance(secret, dict):
        return f"Secret/{secret.get('name')} key {secret.get('key') or 'value'}"
    config_map = kube_config.get("configMapRef")
    if isinstance(config_map, dict):
        return f"ConfigMap/{config_map.get('name')}"
    return "an unrecognised reference"


def remote_refusal(spec: FluxObject) -> str | None:
    """Why a node targeting another cluster is not planned or applied here; None for local nodes."""
    kube_config = kube_config_of(spec)
    if kube_config is None:
        return None
    return (f"spec.kubeConfig targets another cluster ({describe_target(kube_config)}); fluxpush "
            "does not plan or apply it against the current cluster. Run fluxpush against that "
            "cluster with its own kubeconfig, or remove spec.kubeConfig")
