"""The cluster state one server instance serves: types, objects, allocators, hooks. No HTTP here."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubesim.defaults import ServiceIPs
from kubesim.registry import Registry, ResourceType
from kubesim.schema import Schema
from kubesim.store import Key, Store

WriteHook = Callable[[ResourceType, str, dict[str, Any]], None]


def now_rfc3339() -> str:
    """The current UTC time in the API's RFC 3339 second precision."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Options:
    """Behaviour switches of a simulated cluster."""

    controllers: bool = True  # simulate workload readiness
    ready_delay: float = 0.5  # seconds before a workload or PVC becomes ready
    crd_delay: float = 0.2  # seconds before a new CRD is Established
    kube_version: str = "1.35.0"
    cluster_name: str = "kubesim"
    extra: dict[str, Any] = field(default_factory=dict)


class Cluster:
    """Everything that makes up one simulated cluster; each server owns one instance."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self.registry = Registry()
        self.schema = Schema(self.registry.definitions)
        self.store = Store()
        self.service_ips = ServiceIPs()
        self.write_hooks: list[WriteHook] = []
        self.wake = threading.Event()  # nudges the controller loop after a write
        self._bootstrap()

    def _bootstrap(self) -> None:
        created = now_rfc3339()
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.store.put(
                ("", "namespaces", "", name),
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {
                        "name": name,
                        "uid": _uid(),
                        "creationTimestamp": created,
                        "labels": {"kubernetes.io/metadata.name": name},
                    },
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
            )
        self.store.put(
            ("", "services", "default", "kubernetes"),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "uid": _uid(),
                    "creationTimestamp": created,
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "clusterIP": "10.96.0.1",
                    "clusterIPs": ["10.96.0.1"],
                    "type": "ClusterIP",
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                    "sessionAffinity": "None",
                    "ipFamilies": ["IPv4"],
                    "ipFamilyPolicy": "SingleStack",
                    "internalTrafficPolicy": "Cluster",
                },
                "status": {"loadBalancer": {}},
            },
        )
        self.store.put(
            ("", "serviceaccounts", "default", "default"),
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {
                    "name": "default",
                    "namespace": "default",
                    "uid": _uid(),
                    "creationTimestamp": created,
                },
            },
        )

    def key(self, rtype: ResourceType, namespace: str, name: str) -> Key:
        """The store key of an object."""
        return (rtype.group, rtype.plural, namespace if rtype.namespaced else "", name)

    def namespace_phase(self, name: str) -> str | None:
        """`Active`, `Terminating`, or None when the namespace does not exist."""
        obj = self.store.get(("", "namespaces", "", name))
        if obj is None:
            return None
        if obj["metadata"].get("deletionTimestamp"):
            return "Terminating"
        return "Active"

    def notify_write(self, rtype: ResourceType, event: str, obj: dict[str, Any]) -> None:
        """Run write hooks (controllers, CRD registration) after a persisted change."""
        for hook in list(self.write_hooks):
            hook(rtype, event, obj)
        self.wake.set()


def _uid() -> str:
    import uuid

    return str(uuid.uuid4())


new_uid = _uid
