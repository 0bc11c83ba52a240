"""Workload readiness: runs the status builders of `apps` and `core` over live objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubesim.cluster import Cluster
from kubesim.controllers import apps, core
from kubesim.controllers.progress import Progress, failure_of
from kubesim.controllers.status import StatusWriter
from kubesim.controllers.timing import Timers, ready_delay
from kubesim.registry import ResourceType

Obj = dict[str, Any]
Builder = Callable[[Obj, Progress, Obj], Obj | None]
CONTROLLER_MANAGER = "kube-controller-manager"


class WorkloadController:
    """Readiness simulation for the kinds a deployment waits on (switched by `Options.controllers`)."""

    def __init__(self, cluster: Cluster, timers: Timers) -> None:
        self.cluster = cluster
        self.timers = timers
        self.status = StatusWriter(cluster)
        # (group, resource) → (status builder, field manager of the real component writing it)
        self.builders: dict[tuple[str, str], tuple[Builder, str]] = {
            ("apps", "deployments"): (apps.deployment_status, CONTROLLER_MANAGER),
            ("apps", "statefulsets"): (apps.statefulset_status, CONTROLLER_MANAGER),
            ("apps", "daemonsets"): (self._daemonset_status, CONTROLLER_MANAGER),
            ("apps", "replicasets"): (apps.replicaset_status, CONTROLLER_MANAGER),
            ("batch", "jobs"): (core.job_status, CONTROLLER_MANAGER),
            ("", "persistentvolumeclaims"): (core.pvc_status, CONTROLLER_MANAGER),
            ("", "namespaces"): (core.namespace_status, CONTROLLER_MANAGER),
            ("", "pods"): (core.pod_status, "kubelet"),
            ("", "services"): (self._service_status, "cloud-controller-manager"),
        }

    def _daemonset_status(self, obj: Obj, progress: Progress, old: Obj) -> Obj:
        nodes = len(self.cluster.store.list("", "nodes")[0])
        return apps.daemonset_status(obj, progress, old, nodes)

    def _service_status(self, obj: Obj, progress: Progress, old: Obj) -> Obj | None:
        return core.service_status(obj, progress, old, self.cluster.options.cluster_name)

    def progress_of(self, group: str, plural: str, obj: Obj) -> Progress:
        """How far the object's current generation has got."""
        delay = ready_delay(obj, self.cluster.options.ready_delay)
        return Progress(self.timers.elapsed(group, plural, obj, delay), failure_of(obj))

    def reconcile(self) -> bool:
        """One pass over every workload; True if a status changed."""
        changed = False
        for (group, plural), (builder, manager) in self.builders.items():
            for obj in self.cluster.store.list(group, plural)[0]:
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                rtype = self._type_of(group, plural, obj)
                if rtype is None:
                    continue
                status = builder(obj, self.progress_of(group, plural, obj), obj.get("status") or {})
                if status is not None:
                    changed |= self.status.write(rtype, obj, status, manager)
        return changed

    def _type_of(self, group: str, plural: str, obj: Obj) -> ResourceType | None:
        version = str(obj.get("apiVersion", "")).rsplit("/", 1)[-1]
        return self.cluster.registry.get(group, version, plural)
