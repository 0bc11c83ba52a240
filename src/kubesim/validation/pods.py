"""Pod specs and pod templates, as every workload kind validates them."""

from __future__ import annotations

import re
from typing import Any

from kubesim.validation.common import (
    Cause,
    duplicate,
    invalid,
    is_label,
    not_found,
    parse_quantity,
    required,
    unsupported,
)
from kubesim.validation.names import validate_metadata

Obj = dict[str, Any]
PROTOCOLS = ("SCTP", "TCP", "UDP")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
ALL_RESTART_POLICIES = ("Always", "OnFailure", "Never")


def port_name_errors(name: str) -> list[str]:
    """IsValidPortName (an IANA service name)."""
    errors = []
    if len(name) > 15:
        errors.append("must be no more than 15 characters")
    if not re.fullmatch(r"[-a-z0-9]+", name):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search(r"[a-z]", name):
        errors.append("must contain at least one letter (a-z)")
    if "--" in name:
        errors.append("must not contain consecutive hyphens")
    if name.startswith("-") or name.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def port_number_errors(port: Any) -> list[str]:
    """IsValidPortNum."""
    if isinstance(port, int) and 1 <= port <= 65535:
        return []
    return ["must be between 1 and 65535, inclusive"]


def _ports(container: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    names: set[str] = set()
    for index, port in enumerate(container.get("ports") or []):
        where = f"{path}.ports[{index}]"
        if port.get("name"):
            causes += [invalid(f"{where}.name", port["name"], m) for m in port_name_errors(port["name"])]
            if port["name"] in names:
                causes.append(duplicate(f"{where}.name", port["name"]))
            names.add(port["name"])
        if not port.get("containerPort"):
            causes.append(required(f"{where}.containerPort"))
        else:
            causes += [
                invalid(f"{where}.containerPort", port["containerPort"], m)
                for m in port_number_errors(port["containerPort"])
            ]
        if port.get("protocol") and port["protocol"] not in PROTOCOLS:
            causes.append(unsupported(f"{where}.protocol", port["protocol"], PROTOCOLS))
    return causes


def _resources(container: Obj, path: str) -> list[Cause]:
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    causes: list[Cause] = []
    # A malformed quantity fails JSON decoding (400) before validation; here both sides parse.
    for name, request in requests.items():
        wanted, limit = parse_quantity(request), parse_quantity(limits.get(name))
        if name in limits and wanted is not None and limit is not None and wanted > limit:
            causes.append(
                invalid(
                    f"{path}.resources.requests",
                    str(request),
                    f"must be less than or equal to {name} limit of {limits[name]}",
                )
            )
    return causes


def _container(container: Obj, path: str, volumes: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    name = container.get("name")
    if not name:
        causes.append(required(f"{path}.name"))
    else:
        causes += [invalid(f"{path}.name", name, m) for m in is_label(name)]
    if not container.get("image"):
        causes.append(required(f"{path}.image"))
    policy = container.get("imagePullPolicy")
    if policy and policy not in PULL_POLICIES:
        causes.append(unsupported(f"{path}.imagePullPolicy", policy, PULL_POLICIES))
    causes += _ports(container, path)
    causes += _resources(container, path)
    for index, mount in enumerate(container.get("volumeMounts") or []):
        if not mount.get("name"):
            causes.append(required(f"{path}.volumeMounts[{index}].name"))
        elif mount["name"] not in volumes:
            causes.append(not_found(f"{path}.volumeMounts[{index}].name", mount["name"]))
        if not mount.get("mountPath"):
            causes.append(required(f"{path}.volumeMounts[{index}].mountPath"))
    return causes


def validate_pod_spec(
    spec: Any, prefix: str, restart_policies: tuple[str, ...] = ALL_RESTART_POLICIES
) -> list[Cause]:
    """Containers, volumes and restartPolicy of a pod spec at `prefix`."""
    spec = spec or {}
    causes: list[Cause] = []
    volumes: set[str] = set()
    for index, volume in enumerate(spec.get("volumes") or []):
        name = volume.get("name")
        if not name:
            causes.append(required(f"{prefix}.volumes[{index}].name"))
            continue
        causes += [invalid(f"{prefix}.volumes[{index}].name", name, m) for m in is_label(name)]
        if name in volumes:
            causes.append(duplicate(f"{prefix}.volumes[{index}].name", name))
        volumes.add(name)
    if not spec.get("containers"):
        causes.append(required(f"{prefix}.containers"))
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(key) or []):
            path = f"{prefix}.{key}[{index}]"
            causes += _container(container, path, volumes)
            name = container.get("name")
            if name and name in seen:
                causes.append(duplicate(f"{path}.name", name))
            seen.add(name)
    restart = spec.get("restartPolicy")
    if restart is not None and restart not in restart_policies:
        causes.append(unsupported(f"{prefix}.restartPolicy", restart, restart_policies))
    return causes


def validate_template(template: Any, prefix: str, restart_policies: tuple[str, ...]) -> list[Cause]:
    """A pod template: its metadata and its pod spec."""
    template = template or {}
    return validate_metadata(template.get("metadata"), f"{prefix}.metadata") + validate_pod_spec(
        template.get("spec"), f"{prefix}.spec", restart_policies
    )
