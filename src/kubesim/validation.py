"""Validation: names, required fields and immutable fields, with the real server's 422 wording."""

from __future__ import annotations

import json
import re
from typing import Any

from kubesim.errors import field_cause

Obj = dict[str, Any]
Cause = dict[str, Any]

DNS1123_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1035_LABEL = r"[a-z]([-a-z0-9]*[a-z0-9])?"
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    f"validation is '{DNS1123_SUBDOMAIN}')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    f"validation is '{DNS1123_LABEL}')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    f"regex used for validation is '{DNS1035_LABEL}')"
)

# Kinds whose names are DNS labels (no dots) rather than subdomains.
LABEL_NAMED = {"Namespace"}
DNS1035_NAMED = {"Service"}
# Kinds with a free-form (path segment) name.
PATH_NAMED = {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}


def _go_string_map(labels: dict[str, Any]) -> str:
    """A label map as Go's %#v prints a map[string]string."""
    pairs = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(labels.items()))
    return f"map[string]string{{{pairs}}}"


def _pvc_fixed_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The part of a PVC spec that may not change after creation."""
    mutable = ("resources", "volumeAttributesClassName", "volumeName")
    return {k: v for k, v in spec.items() if k not in mutable}


def go_value(value: Any) -> str:
    """Render a value roughly the way Go's %#v shows it in messages."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) and set(value) <= {"matchLabels", "matchExpressions"}:
        labels = ", ".join(
            f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted((value.get("matchLabels") or {}).items())
        )
        exprs = (
            "[]v1.LabelSelectorRequirement(nil)"
            if not value.get("matchExpressions")
            else "[]v1.LabelSelectorRequirement{" + json.dumps(value["matchExpressions"]) + "}"
        )
        return f"v1.LabelSelector{{MatchLabels:map[string]string{{{labels}}}, MatchExpressions:{exprs}}}"
    if value is None:
        return "null"
    return (
        json.dumps(value, separators=(",", ":"), sort_keys=True)
        if isinstance(value, dict | list)
        else str(value)
    )


def validate_name(kind: str, name: str, generate: bool = False) -> list[Cause]:
    """Causes for an invalid `metadata.name`."""
    if not name:
        if generate:
            return []
        return [
            field_cause(
                "FieldValueRequired", "metadata.name", "Required value: name or generateName is required"
            )
        ]
    if kind in PATH_NAMED:
        if name in (".", "..") or "/" in name or "%" in name:
            return [
                field_cause(
                    "FieldValueInvalid",
                    "metadata.name",
                    f"Invalid value: {json.dumps(name)}: may not contain '/'",
                )
            ]
        return []
    pattern, message, limit = DNS1123_SUBDOMAIN, SUBDOMAIN_MSG, 253
    if kind in LABEL_NAMED:
        pattern, message, limit = DNS1123_LABEL, LABEL_MSG, 63
    elif kind in DNS1035_NAMED:
        pattern, message, limit = DNS1035_LABEL, DNS1035_MSG, 63
    causes = []
    if len(name) > limit:
        causes.append(
            field_cause(
                "FieldValueInvalid",
                "metadata.name",
                f"Invalid value: {json.dumps(name)}: must be no more than {limit} characters",
            )
        )
    if not re.fullmatch(pattern, name):
        causes.append(
            field_cause("FieldValueInvalid", "metadata.name", f"Invalid value: {json.dumps(name)}: {message}")
        )
    return causes


def _required(causes: list[Cause], field: str) -> None:
    causes.append(field_cause("FieldValueRequired", field, "Required value"))


def _containers(causes: list[Cause], pod_spec: Obj, prefix: str) -> None:
    containers = pod_spec.get("containers")
    if not containers:
        _required(causes, f"{prefix}.containers")
        return
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        for index, container in enumerate(pod_spec.get(key) or []):
            path = f"{prefix}.{key}[{index}]"
            name = container.get("name")
            if not name:
                _required(causes, f"{path}.name")
            elif name in seen:
                causes.append(
                    field_cause("FieldValueDuplicate", f"{path}.name", f"Duplicate value: {json.dumps(name)}")
                )
            else:
                seen.add(name)
            if not container.get("image"):
                _required(causes, f"{path}.image")


def _selector_matches(selector: Obj, labels: Obj) -> bool:
    return all(labels.get(key) == value for key, value in (selector.get("matchLabels") or {}).items())


def validate_object(obj: Obj) -> list[Cause]:
    """Causes for required fields and internal consistency of the kinds deployments use."""
    causes: list[Cause] = []
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        selector = spec.get("selector")
        template = spec.get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        if not selector:
            _required(causes, "spec.selector")
        elif not (selector.get("matchLabels") or selector.get("matchExpressions")):
            causes.append(
                field_cause(
                    "FieldValueInvalid",
                    "spec.selector",
                    f"Invalid value: {go_value(selector)}: empty selector is invalid for deployment",
                )
            )
        elif not _selector_matches(selector, labels):
            causes.append(
                field_cause(
                    "FieldValueInvalid",
                    "spec.template.metadata.labels",
                    f"Invalid value: {_go_string_map(labels)}: `selector` does not match template `labels`",
                )
            )
        _containers(causes, template.get("spec") or {}, "spec.template.spec")
        if kind == "Deployment" and isinstance(spec.get("replicas"), int) and spec["replicas"] < 0:
            causes.append(
                field_cause(
                    "FieldValueInvalid",
                    "spec.replicas",
                    f"Invalid value: {spec['replicas']}: must be greater than or equal to 0",
                )
            )
    elif kind == "Job":
        _containers(causes, (spec.get("template") or {}).get("spec") or {}, "spec.template.spec")
        restart = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
        if restart not in (None, "OnFailure", "Never"):
            causes.append(
                field_cause(
                    "FieldValueNotSupported",
                    "spec.template.spec.restartPolicy",
                    f'Unsupported value: "{restart}": supported values: "OnFailure", "Never"',
                )
            )
    elif kind == "CronJob":
        if not spec.get("schedule"):
            _required(causes, "spec.schedule")
        job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
        _containers(
            causes, (job_spec.get("template") or {}).get("spec") or {}, "spec.jobTemplate.spec.template.spec"
        )
    elif kind == "Pod":
        _containers(causes, spec, "spec")
    elif kind == "Service":
        for index, port in enumerate(spec.get("ports") or []):
            if "port" not in port:
                _required(causes, f"spec.ports[{index}].port")
        if spec.get("type") != "ExternalName" and not spec.get("ports") and spec.get("clusterIP") != "None":
            _required(causes, "spec.ports")
    elif kind in ("RoleBinding", "ClusterRoleBinding"):
        if not (obj.get("roleRef") or {}).get("name"):
            _required(causes, "roleRef.name")
    elif kind == "PersistentVolumeClaim":
        if not spec.get("accessModes"):
            _required(causes, "spec.accessModes")
        if not ((spec.get("resources") or {}).get("requests") or {}).get("storage"):
            _required(causes, "spec.resources[storage]")
    elif kind == "CustomResourceDefinition":
        names = spec.get("names") or {}
        expected = f"{names.get('plural', '')}.{spec.get('group', '')}"
        name = obj.get("metadata", {}).get("name", "")
        if name != expected:
            causes.append(
                field_cause(
                    "FieldValueInvalid",
                    "metadata.name",
                    f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
                )
            )
        if not spec.get("versions"):
            _required(causes, "spec.versions")
        elif sum(1 for v in spec["versions"] if v.get("storage")) != 1:
            causes.append(
                field_cause(
                    "FieldValueInvalid",
                    "spec.versions",
                    f"Invalid value: {go_value(spec['versions'])}: "
                    "must have exactly one version marked as storage version",
                )
            )
    return causes


def _immutable(causes: list[Cause], field: str, value: Any) -> None:
    causes.append(
        field_cause("FieldValueInvalid", field, f"Invalid value: {go_value(value)}: field is immutable")
    )


def validate_update(old: Obj, new: Obj) -> list[Cause]:
    """Causes for changes to immutable fields between a stored object and its update."""
    causes: list[Cause] = []
    kind = new.get("kind")
    old_spec, spec = old.get("spec") or {}, new.get("spec") or {}
    if kind in ("Deployment", "DaemonSet", "ReplicaSet") and old_spec.get("selector") != spec.get("selector"):
        _immutable(causes, "spec.selector", spec.get("selector"))
    elif kind == "StatefulSet":
        allowed = {
            "replicas",
            "ordinals",
            "template",
            "updateStrategy",
            "persistentVolumeClaimRetentionPolicy",
            "minReadySeconds",
        }
        if {k: v for k, v in old_spec.items() if k not in allowed} != {
            k: v for k, v in spec.items() if k not in allowed
        }:
            causes.append(
                field_cause(
                    "FieldValueForbidden",
                    "spec",
                    "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                    "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                    "'minReadySeconds' are forbidden",
                )
            )
    elif kind == "Job":
        if old_spec.get("selector") != spec.get("selector"):
            _immutable(causes, "spec.selector", spec.get("selector"))
        if old_spec.get("template") != spec.get("template") and not old_spec.get("suspend"):
            _immutable(causes, "spec.template", spec.get("template"))
        if old_spec.get("completionMode") != spec.get("completionMode"):
            _immutable(causes, "spec.completionMode", spec.get("completionMode"))
    elif kind == "Service":
        if old_spec.get("clusterIP") and spec.get("clusterIP") != old_spec.get("clusterIP"):
            _immutable(causes, "spec.clusterIP", spec.get("clusterIP"))
    elif kind == "PersistentVolumeClaim":
        if _pvc_fixed_spec(old_spec) != _pvc_fixed_spec(spec):
            causes.append(
                field_cause(
                    "FieldValueForbidden",
                    "spec",
                    "Forbidden: spec is immutable after creation except resources.requests and "
                    "volumeAttributesClassName for bound claims",
                )
            )
    elif kind in ("ConfigMap", "Secret") and old.get("immutable"):
        for field in ("data", "binaryData") if kind == "ConfigMap" else ("data", "stringData"):
            if old.get(field) != new.get(field):
                causes.append(
                    field_cause(
                        "FieldValueForbidden", field, "Forbidden: field is immutable when `immutable` is set"
                    )
                )
        if not new.get("immutable"):
            causes.append(
                field_cause(
                    "FieldValueForbidden",
                    "immutable",
                    "Forbidden: field is immutable when `immutable` is set",
                )
            )
    elif kind == "CustomResourceDefinition":
        if old_spec.get("group") != spec.get("group"):
            _immutable(causes, "spec.group", spec.get("group"))
        if old_spec.get("scope") != spec.get("scope"):
            _immutable(causes, "spec.scope", spec.get("scope"))
    return causes
