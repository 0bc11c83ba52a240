"""Roles, ClusterRoles and their bindings (rbac.authorization.k8s.io/v1)."""

from __future__ import annotations

import json
from typing import Any

from kubesim.validation.common import Cause, invalid, required, unsupported

Obj = dict[str, Any]
RBAC_GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def _rule(rule: Obj, where: str, namespaced: bool) -> list[Cause]:
    causes: list[Cause] = []
    if not rule.get("verbs"):
        causes.append(required(f"{where}.verbs", "verbs must contain at least one value"))
    urls = rule.get("nonResourceURLs") or []
    if urls:
        if namespaced:
            causes.append(
                invalid(
                    f"{where}.nonResourceURLs", urls, "namespaced rules cannot apply to non-resource URLs"
                )
            )
        if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
            causes.append(
                invalid(
                    f"{where}.nonResourceURLs",
                    urls,
                    "rules cannot apply to both regular resources and non-resource URLs",
                )
            )
        return causes
    if not rule.get("apiGroups"):
        causes.append(required(f"{where}.apiGroups", "resource rules must supply at least one api group"))
    if not rule.get("resources"):
        causes.append(required(f"{where}.resources", "resource rules must supply at least one resource"))
    return causes


def validate_role(obj: Obj) -> list[Cause]:
    """Role/ClusterRole rules (a ClusterRole with an aggregationRule may have none)."""
    namespaced = obj["kind"] == "Role"
    causes: list[Cause] = []
    for index, rule in enumerate(obj.get("rules") or []):
        causes += _rule(rule, f"rules[{index}]", namespaced)
    return causes


def role_ref_value(ref: Obj) -> str:
    """rbac.RoleRef as Go's %#v prints it."""
    group, kind, name = (json.dumps(ref.get(k, "")) for k in ("apiGroup", "kind", "name"))
    return f"rbac.RoleRef{{APIGroup:{group}, Kind:{kind}, Name:{name}}}"


def validate_binding(obj: Obj) -> list[Cause]:
    """RoleBinding/ClusterRoleBinding: roleRef and subjects."""
    cluster = obj["kind"] == "ClusterRoleBinding"
    ref = obj.get("roleRef") or {}
    causes: list[Cause] = []
    if ref.get("apiGroup") != RBAC_GROUP:
        causes.append(unsupported("roleRef.apiGroup", ref.get("apiGroup", ""), (RBAC_GROUP,)))
    kinds = ("ClusterRole",) if cluster else ("Role", "ClusterRole")
    if ref.get("kind") not in kinds:
        causes.append(unsupported("roleRef.kind", ref.get("kind", ""), kinds))
    if not ref.get("name"):
        causes.append(required("roleRef.name"))
    for index, subject in enumerate(obj.get("subjects") or []):
        where = f"subjects[{index}]"
        kind = subject.get("kind")
        if not subject.get("name"):
            causes.append(required(f"{where}.name"))
        if kind not in SUBJECT_KINDS:
            causes.append(unsupported(f"{where}.kind", kind or "", SUBJECT_KINDS))
        elif kind == "ServiceAccount":
            if subject.get("apiGroup"):
                causes.append(unsupported(f"{where}.apiGroup", subject["apiGroup"], ("",)))
            if cluster and not subject.get("namespace"):
                causes.append(required(f"{where}.namespace"))
        elif subject.get("apiGroup") != RBAC_GROUP:
            causes.append(unsupported(f"{where}.apiGroup", subject.get("apiGroup", ""), (RBAC_GROUP,)))
    return causes
