"""Update validation: what may not change between the stored object and its replacement."""

from __future__ import annotations

from typing import Any

from kubesim.validation.common import Cause, builtin_kind, forbidden, immutable, invalid, parse_quantity
from kubesim.validation.rbac import role_ref_value

Obj = dict[str, Any]
STATEFULSET_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)
PVC_MUTABLE = ("resources", "volumeAttributesClassName", "volumeName")
IMMUTABLE_DATA = "field is immutable when `immutable` is set"


def _statefulset(old_spec: Obj, spec: Obj) -> list[Cause]:
    def fixed(s: Obj) -> Obj:
        return {k: v for k, v in s.items() if k not in STATEFULSET_MUTABLE}

    if fixed(old_spec) == fixed(spec):
        return []
    listed = ", ".join(f"'{k}'" for k in STATEFULSET_MUTABLE[:-1]) + f" and '{STATEFULSET_MUTABLE[-1]}'"
    return [forbidden("spec", f"updates to statefulset spec for fields other than {listed} are forbidden")]


def _job(old_spec: Obj, spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    if old_spec.get("selector") != spec.get("selector"):
        causes.append(immutable("spec.selector", spec.get("selector")))
    if old_spec.get("template") != spec.get("template") and not old_spec.get("suspend"):
        causes.append(immutable("spec.template", spec.get("template")))
    if old_spec.get("completionMode") != spec.get("completionMode"):
        causes.append(immutable("spec.completionMode", spec.get("completionMode")))
    return causes


def _service(old_spec: Obj, spec: Obj) -> list[Cause]:
    """An allocated cluster IP may not change (ExternalName services have none)."""
    if "ExternalName" in (old_spec.get("type"), spec.get("type")):
        return []
    old_ips = old_spec.get("clusterIPs") or ([old_spec["clusterIP"]] if old_spec.get("clusterIP") else [])
    new_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    if old_ips and new_ips[:1] != old_ips[:1]:
        return [invalid("spec.clusterIPs[0]", new_ips, "may not change once set")]
    return []


def _storage(spec_or_status: Obj, *path: str) -> Any:
    node: Any = spec_or_status
    for key in path:
        node = (node or {}).get(key)
    return node


def _pvc(old: Obj, new: Obj) -> list[Cause]:
    old_spec, spec = old.get("spec") or {}, new.get("spec") or {}
    bound = (old.get("status") or {}).get("phase") == "Bound"
    mutable = PVC_MUTABLE if bound else tuple(k for k in PVC_MUTABLE if k != "resources")
    if {k: v for k, v in old_spec.items() if k not in mutable} != {
        k: v for k, v in spec.items() if k not in mutable
    }:
        return [
            forbidden(
                "spec",
                "spec is immutable after creation except resources.requests and volumeAttributesClassName "
                "for bound claims",
            )
        ]
    wanted = parse_quantity(_storage(spec, "resources", "requests", "storage"))
    capacity = parse_quantity(_storage(old.get("status") or {}, "capacity", "storage"))
    if bound and wanted is not None and capacity is not None and wanted < capacity:
        return [forbidden("spec.resources.requests.storage", "field can not be less than status.capacity")]
    return []


def _immutable_data(kind: str, old: Obj, new: Obj) -> list[Cause]:
    causes: list[Cause] = []
    if kind == "Secret" and old.get("type") != new.get("type"):
        causes.append(immutable("type", new.get("type")))
    if not old.get("immutable"):
        return causes
    if not new.get("immutable"):
        causes.append(forbidden("immutable", IMMUTABLE_DATA))
    for field in ("data", "binaryData") if kind == "ConfigMap" else ("data",):
        if old.get(field) != new.get(field):
            causes.append(forbidden(field, IMMUTABLE_DATA))
    return causes


def validate_update(old: Obj, new: Obj) -> list[Cause]:
    """Causes for changes to immutable fields between a stored object and its update."""
    kind = builtin_kind(new)
    old_spec, spec = old.get("spec") or {}, new.get("spec") or {}
    if kind in ("Deployment", "DaemonSet", "ReplicaSet"):
        return (
            []
            if old_spec.get("selector") == spec.get("selector")
            else [immutable("spec.selector", spec.get("selector"))]
        )
    if kind == "StatefulSet":
        return _statefulset(old_spec, spec)
    if kind == "Job":
        return _job(old_spec, spec)
    if kind == "Service":
        return _service(old_spec, spec)
    if kind == "PersistentVolumeClaim":
        return _pvc(old, new)
    if kind in ("ConfigMap", "Secret"):
        return _immutable_data(kind, old, new)
    if kind in ("RoleBinding", "ClusterRoleBinding") and old.get("roleRef") != new.get("roleRef"):
        ref = new.get("roleRef") or {}
        return [invalid("roleRef", ref, "cannot change roleRef", role_ref_value(ref))]
    if kind == "CustomResourceDefinition":
        return [
            immutable(f"spec.{field}", spec.get(field))
            for field in ("group", "scope")
            if old_spec.get(field) != spec.get(field)
        ]
    return []
