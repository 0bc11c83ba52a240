"""Workload status as kube-controller-manager, kubelet and the cloud controller write it."""

from __future__ import annotations

from kubesim.cluster import Cluster
from kubesim.controllers.timing import Timers


class WorkloadController:
    """Readiness simulation for Deployments, StatefulSets, DaemonSets, Jobs, PVCs, Pods, Services."""

    def __init__(self, cluster: Cluster, timers: Timers) -> None:
        self.cluster = cluster
        self.timers = timers

    def reconcile(self) -> bool:
        """One pass over every workload; True if a status changed."""
        return False
