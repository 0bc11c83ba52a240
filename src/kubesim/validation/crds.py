"""CustomResourceDefinition (apiextensions.k8s.io/v1): names, versions, structural schemas."""

from __future__ import annotations

from typing import Any

from kubesim.validation.common import (
    DNS1035_LABEL,
    DNS1035_MSG,
    Cause,
    dns_errors,
    duplicate,
    invalid,
    is_label,
    is_subdomain,
    required,
    unsupported,
)

Obj = dict[str, Any]
SCHEMA = "schema.openAPIV3Schema"


def _names(names: Obj) -> list[Cause]:
    causes: list[Cause] = []
    for field in ("plural", "singular"):
        value = names.get(field)
        if not value:
            causes.append(required(f"spec.names.{field}"))
        else:
            causes += [invalid(f"spec.names.{field}", value, m) for m in is_label(value)]
    for field in ("kind", "listKind"):
        value = names.get(field)
        if not value:
            causes.append(required(f"spec.names.{field}"))
            continue
        errors = dns_errors(str(value).lower(), DNS1035_LABEL, DNS1035_MSG, 63)
        if errors:
            causes.append(invalid(f"spec.names.{field}", value, ",".join(errors)))
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        causes.append(
            invalid("spec.names.listKind", names["listKind"], "kind and listKind may not be the same")
        )
    for index, short in enumerate(names.get("shortNames") or []):
        causes += [invalid(f"spec.names.shortNames[{index}]", short, m) for m in is_label(short)]
    return causes


def _structural(node: Any, path: str, what: str) -> list[Cause]:
    """Every specified field and array item needs a type, unless int-or-string or preserved."""
    if not isinstance(node, dict):
        return []
    causes: list[Cause] = []
    exempt = node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields")
    if not node.get("type") and not exempt and what:
        causes.append(required(f"{path}.type", f"must not be empty for specified {what}"))
    for name, child in (node.get("properties") or {}).items():
        causes += _structural(child, f"{path}.properties[{name}]", "object fields")
    if isinstance(node.get("additionalProperties"), dict):
        causes += _structural(node["additionalProperties"], f"{path}.additionalProperties", "object fields")
    if isinstance(node.get("items"), dict):
        causes += _structural(node["items"], f"{path}.items", "array items")
    return causes


def _version(version: Obj, where: str) -> list[Cause]:
    causes: list[Cause] = []
    name = version.get("name")
    if not name:
        causes.append(required(f"{where}.name"))
    else:
        causes += [
            invalid(f"{where}.name", name, m) for m in dns_errors(name, DNS1035_LABEL, DNS1035_MSG, 63)
        ]
    root = (version.get("schema") or {}).get("openAPIV3Schema")
    if not isinstance(root, dict):
        return [*causes, required(f"{where}.{SCHEMA}", "schemas are required")]
    if not root.get("type"):
        causes.append(required(f"{where}.{SCHEMA}.type", "must not be empty at the root"))
    elif root["type"] != "object":
        causes.append(invalid(f"{where}.{SCHEMA}.type", root["type"], "must be object at the root"))
    return causes + _structural(root, f"{where}.{SCHEMA}", "")


def validate_crd(obj: Obj) -> list[Cause]:
    """A CRD: name is plural.group, names, scope, one storage version, structural schemas."""
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    causes: list[Cause] = []
    name = obj.get("metadata", {}).get("name", "")
    if name != f"{names.get('plural', '')}.{group}":
        causes.append(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    if not group:
        causes.append(required("spec.group"))
    else:
        causes += [invalid("spec.group", group, m) for m in is_subdomain(group)]
        if "." not in group:
            causes.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    causes += _names(names)
    scope = spec.get("scope")
    if not scope:
        causes.append(required("spec.scope"))
    elif scope not in ("Cluster", "Namespaced"):
        causes.append(unsupported("spec.scope", scope, ("Cluster", "Namespaced")))
    versions = spec.get("versions") or []
    if not versions:
        return [*causes, required("spec.versions")]
    seen: set[str] = set()
    for index, version in enumerate(versions):
        causes += _version(version, f"spec.versions[{index}]")
        if version.get("name") in seen:
            causes.append(duplicate(f"spec.versions[{index}].name", version["name"]))
        seen.add(version.get("name"))
    if sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(
            invalid(
                "spec.versions",
                versions,
                "must have exactly one version marked as storage version",
            )
        )
    for index, stored in enumerate((obj.get("status") or {}).get("storedVersions") or []):
        if stored not in seen:
            causes.append(invalid(f"status.storedVersions[{index}]", stored, "must appear in spec.versions"))
    return causes
