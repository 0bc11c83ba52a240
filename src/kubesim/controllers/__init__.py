"""Simulated control plane: CRD registration, garbage collection and workload status.

`Controllers(cluster)` runs one loop (a daemon thread, or `run_once()` from tests) that does what
the parts of a real control plane outside the request path do:

* **apiextensions** (part of kube-apiserver, so it always runs): a new CustomResourceDefinition
  becomes `NamesAccepted`/`Established` after `Options.crd_delay`, and only then are its types
  registered for discovery, OpenAPI and requests; a deleted CRD takes its types and custom
  resources with it. `Options.controllers=False` does not switch this off, as on a real server
  with no controller manager.
* **garbage collector / namespace finalizer**: `Deleter.reconcile()` each pass, so dependents and
  namespace contents go away after writes that did not come through `Deleter.delete`.
* **workload controllers** (only with `Options.controllers`): kube-controller-manager, kubelet
  and the cloud controller write the status kstatus and `kubectl rollout status` read, after
  `Options.ready_delay` seconds from the object's last generation change (see `workloads`).

Every status write goes through `Resources` with the real component's field manager and the
`status` subresource, so resourceVersion, managedFields and watch events are what clients see
from a real cluster.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from kubesim.cluster import Cluster
from kubesim.controllers.crds import CrdController
from kubesim.controllers.timing import Timers
from kubesim.controllers.workloads import WorkloadController
from kubesim.deletion import Deleter
from kubesim.registry import ResourceType

POLL_INTERVAL = 0.05  # seconds between passes when no write wakes the loop (delays are timed by it)

log = logging.getLogger(__name__)


class Controllers:
    """The reconcile loop of one simulated cluster."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.timers = Timers()
        self.deleter = Deleter(cluster)
        self.crds = CrdController(cluster, self.timers, self.deleter)
        self.workloads = WorkloadController(cluster, self.timers)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._settled_at = -1  # store resourceVersion after the last pass that changed nothing
        cluster.write_hooks.append(self._on_write)

    def _on_write(self, rtype: ResourceType, event: str, obj: dict[str, Any]) -> None:
        """Remember when an object's generation changed, so delays count from the write."""
        if event == "DELETED":
            self.timers.drop(rtype.group, rtype.plural, obj)
        else:
            self.timers.observe(rtype.group, rtype.plural, obj)

    def run_once(self) -> bool:
        """One reconcile pass over every controller; True if it changed something."""
        self.timers.next_due = math.inf
        started_at = self.cluster.store.resource_version  # a write during the pass makes the loop rerun
        changed = self.crds.reconcile()
        changed |= self.deleter.reconcile()
        if self.cluster.options.controllers:
            changed |= self.workloads.reconcile()
        self._settled_at = -1 if changed else started_at
        return changed

    def is_idle(self) -> bool:
        """Nothing to do: no write since a pass that settled, and no delay has ended since."""
        settled = self._settled_at == self.cluster.store.resource_version
        return settled and time.monotonic() < self.timers.next_due

    def start(self) -> None:
        """Run the loop in a daemon thread until `stop()`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="kubesim-controllers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop and wait for the thread to end."""
        self._stop.set()
        self.cluster.wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.cluster.wake.wait(POLL_INTERVAL)
            self.cluster.wake.clear()
            if self._stop.is_set():
                return
            if self.is_idle():
                continue
            try:
                self.run_once()
            except Exception:  # the loop is a thread entry point: one bad pass must not end it
                log.exception("kubesim controllers: reconcile pass failed")
                time.sleep(POLL_INTERVAL)


__all__ = ["Controllers"]
