"""Validation with the real API server's field paths and 422 wording.

`validate_name` checks `metadata.name` by the rule each kind follows (DNS subdomain, label,
DNS-1035 label or path segment); `validate_object` checks metadata and the spec of the kinds
deployments use; `validate_update` checks what may not change. Each returns `StatusCause`s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubesim.validation import config, crds, network, rbac, workloads
from kubesim.validation.common import Cause, builtin_kind, go_value
from kubesim.validation.names import validate_metadata, validate_name
from kubesim.validation.updates import validate_update

Obj = dict[str, Any]
VALIDATORS: dict[str, Callable[[Obj], list[Cause]]] = {
    "Deployment": workloads.validate_apps,
    "StatefulSet": workloads.validate_apps,
    "DaemonSet": workloads.validate_apps,
    "ReplicaSet": workloads.validate_apps,
    "Job": workloads.validate_job,
    "CronJob": workloads.validate_cronjob,
    "Pod": workloads.validate_pod,
    "HorizontalPodAutoscaler": workloads.validate_hpa,
    "PodDisruptionBudget": workloads.validate_pdb,
    "Service": network.validate_service,
    "Ingress": network.validate_ingress,
    "ConfigMap": config.validate_configmap,
    "Secret": config.validate_secret,
    "PersistentVolumeClaim": config.validate_pvc,
    "Role": rbac.validate_role,
    "ClusterRole": rbac.validate_role,
    "RoleBinding": rbac.validate_binding,
    "ClusterRoleBinding": rbac.validate_binding,
    "CustomResourceDefinition": crds.validate_crd,
}


def validate_object(obj: Obj) -> list[Cause]:
    """Causes for invalid metadata, missing required fields and inconsistent specs."""
    causes = validate_metadata(obj.get("metadata"))
    kind = builtin_kind(obj)
    validator = VALIDATORS.get(kind) if kind is not None else None
    return causes + (validator(obj) if validator is not None else [])


__all__ = ["go_value", "validate_name", "validate_object", "validate_update"]
