"""Flux's apply order for the objects of one node (fluxcd/pkg ssa stages and kind order).

Stage 1 holds cluster definitions (CRDs, `v1` Namespaces, ClusterRoles), stage 2 every kind whose
name ends in `Class`, stage 3 the rest. Inside a stage objects sort by kind priority, then by group,
kind, namespace and name; webhook configurations go last.
"""

from __future__ import annotations

from typing import Any

# Kubernetes kinds in the order Flux applies them (flux-semantics §4.3); unlisted kinds come after,
# alphabetically, and the webhook configurations come last so they never block their own backends.
KIND_PRIORITY = (
    "CustomResourceDefinition", "Namespace", "ClusterRole", "ClusterClass", "RuntimeClass",
    "PriorityClass", "StorageClass", "VolumeSnapshotClass", "IngressClass", "GatewayClass",
    "ClusterRoleBinding", "ResourceQuota", "ServiceAccount", "Role", "RoleBinding", "ConfigMap",
    "Secret", "Service", "LimitRange", "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
)
KIND_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_RANK = {kind: rank for rank, kind in enumerate(KIND_PRIORITY)}


def apply_stage(obj: dict[str, Any]) -> int:
    """1 for cluster definitions, 2 for `*Class` kinds, 3 for everything else."""
    kind, api_version = obj.get("kind", ""), obj.get("apiVersion", "")
    if (kind == "CustomResourceDefinition" and api_version.startswith("apiextensions.k8s.io/")) \
            or (kind == "Namespace" and api_version == "v1") \
            or (kind == "ClusterRole" and api_version.startswith("rbac.authorization.k8s.io/")):
        return 1
    return 2 if kind.endswith("Class") else 3


def apply_sort_key(obj: dict[str, Any]) -> tuple[int, int, str, str, str, str]:
    """Sort key giving Flux's stage and in-stage order."""
    kind = obj.get("kind", "")
    rank = _RANK.get(kind, len(KIND_PRIORITY) + (1 + KIND_LAST.index(kind) if kind in KIND_LAST else 0))
    meta = obj.get("metadata", {})
    group = obj.get("apiVersion", "").rpartition("/")[0]
    return (apply_stage(obj), rank, group, kind, meta.get("namespace", ""), meta.get("name", ""))


def sort_for_apply(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects in the order Flux would apply them."""
    return sorted(objects, key=apply_sort_key)
