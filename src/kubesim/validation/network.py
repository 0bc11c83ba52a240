"""Service and Ingress."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from kubesim.validation.common import (
    DNS1123_SUBDOMAIN,
    Cause,
    duplicate,
    forbidden,
    invalid,
    is_label,
    is_subdomain,
    required,
    unsupported,
)
from kubesim.validation.pods import PROTOCOLS, port_name_errors, port_number_errors

Obj = dict[str, Any]
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
NODE_PORT_RANGE = (30000, 32767)  # kube-apiserver's default --service-node-port-range
PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
WILDCARD_MSG = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must "
    "consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character "
    "(e.g. '*.example.com', regex used for validation is "
    f"'\\*\\.{DNS1123_SUBDOMAIN}')"
)


def _service_port(port: Obj, where: str, kind: str, named: bool) -> list[Cause]:
    causes: list[Cause] = []
    if named and not port.get("name"):
        causes.append(required(f"{where}.name"))
    elif port.get("name"):
        causes += [invalid(f"{where}.name", port["name"], m) for m in is_label(port["name"])]
    number = port.get("port", 0)
    causes += [invalid(f"{where}.port", number, m) for m in port_number_errors(number)]
    if port.get("protocol") and port["protocol"] not in PROTOCOLS:
        causes.append(unsupported(f"{where}.protocol", port["protocol"], PROTOCOLS))
    target = port.get("targetPort")
    if isinstance(target, int):
        causes += [invalid(f"{where}.targetPort", target, m) for m in port_number_errors(target)]
    elif isinstance(target, str):
        causes += [invalid(f"{where}.targetPort", target, m) for m in port_name_errors(target)]
    node_port = port.get("nodePort")
    if node_port:
        if kind == "ClusterIP":
            causes.append(forbidden(f"{where}.nodePort", "may not be used when `type` is 'ClusterIP'"))
        elif not NODE_PORT_RANGE[0] <= node_port <= NODE_PORT_RANGE[1]:
            causes.append(
                invalid(
                    f"{where}.nodePort",
                    node_port,
                    "provided port is not in the valid range. The range of valid ports is "
                    f"{NODE_PORT_RANGE[0]}-{NODE_PORT_RANGE[1]}",
                )
            )
    return causes


def validate_service(obj: Obj) -> list[Cause]:
    """Service: type, ports (named when several, unique names and node ports), headless rules."""
    spec = obj.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    if kind not in SERVICE_TYPES:
        return [unsupported("spec.type", kind, SERVICE_TYPES)]
    causes: list[Cause] = []
    ports = spec.get("ports") or []
    if kind == "ExternalName":
        if not spec.get("externalName"):
            causes.append(required("spec.externalName"))
    elif not ports and spec.get("clusterIP") != "None":
        causes.append(required("spec.ports"))
    names: set[str] = set()
    node_ports: set[int] = set()
    for index, port in enumerate(ports):
        where = f"spec.ports[{index}]"
        causes += _service_port(port, where, kind, len(ports) > 1)
        if port.get("name") and port["name"] in names:
            causes.append(duplicate(f"{where}.name", port["name"]))
        names.add(port.get("name", ""))
        if port.get("nodePort") in node_ports:
            causes.append(duplicate(f"{where}.nodePort", port["nodePort"]))
        if port.get("nodePort"):
            node_ports.add(port["nodePort"])
    if spec.get("clusterIP") == "None" and kind in ("LoadBalancer", "NodePort"):
        causes.append(invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {kind} services"))
    return causes


def _host_errors(host: str) -> list[str]:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return ["must be a DNS name, not an IP address"]
    if host.startswith("*."):
        return [] if re.fullmatch(DNS1123_SUBDOMAIN, host[2:]) else [WILDCARD_MSG]
    return is_subdomain(host)


def _backend(backend: Obj, where: str) -> list[Cause]:
    service = backend.get("service")
    if service is None:
        return []
    causes: list[Cause] = []
    if not service.get("name"):
        causes.append(required(f"{where}.service.name"))
    port = service.get("port") or {}
    if port.get("name") and port.get("number"):
        causes.append(invalid(f"{where}.service.port", "", "cannot set both port name & port number"))
    elif port.get("name"):
        causes += [
            invalid(f"{where}.service.port.name", port["name"], m) for m in port_name_errors(port["name"])
        ]
    elif port.get("number"):
        causes += [
            invalid(f"{where}.service.port.number", port["number"], m)
            for m in port_number_errors(port["number"])
        ]
    else:
        causes.append(required(f"{where}.service.port", "port name or number is required"))
    return causes


def validate_ingress(obj: Obj) -> list[Cause]:
    """Ingress (networking.k8s.io/v1): hosts, and every path needs a pathType and a backend."""
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    if spec.get("defaultBackend"):
        causes += _backend(spec["defaultBackend"], "spec.defaultBackend")
    for index, rule in enumerate(spec.get("rules") or []):
        where = f"spec.rules[{index}]"
        if rule.get("host"):
            causes += [invalid(f"{where}.host", rule["host"], m) for m in _host_errors(rule["host"])]
        http = rule.get("http")
        if http is None:
            continue
        if not http.get("paths"):
            causes.append(required(f"{where}.http.paths"))
        for number, path in enumerate(http.get("paths") or []):
            at = f"{where}.http.paths[{number}]"
            path_type = path.get("pathType")
            if not path_type:
                causes.append(required(f"{at}.pathType", "pathType must be specified"))
            elif path_type not in PATH_TYPES:
                causes.append(unsupported(f"{at}.pathType", path_type, PATH_TYPES))
            value = path.get("path", "")
            if (path_type in ("Exact", "Prefix") or value) and not str(value).startswith("/"):
                causes.append(invalid(f"{at}.path", value, "must be an absolute path"))
            causes += _backend(path.get("backend") or {}, f"{at}.backend")
    return causes
