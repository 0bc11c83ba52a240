"""Health of live objects: kstatus's `Compute` (sigs.k8s.io/cli-utils) with Flux's Job rule.

`compute_status(obj)` checks, in order: deletion (Terminating), `observedGeneration` against
`generation`, the `Reconciling`/`Stalled` conditions, the rule of the object's kind, a `Ready`
condition, and otherwise Current (cluster §3, flux-semantics §6.2). Messages follow kstatus's.
Jobs use Flux's reader: a running Job is InProgress until it completes (upstream kstatus calls a
started Job Current). Beyond kstatus, a Namespace whose `status.phase` is Terminating is
Terminating even before its deletionTimestamp is seen. `assess_health` turns a set of results
into Flux's wait verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from fluxpush.planning.normalize import ObjectId

# kstatus gives an unschedulable Pod this long after creation before it calls it Failed.
UNSCHEDULABLE_GRACE = timedelta(seconds=15)


class Status(StrEnum):
    """kstatus values; NotFound and Unknown come from the polling layer, not from `compute_status`."""

    CURRENT = "Current"
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    TERMINATING = "Terminating"
    NOT_FOUND = "NotFound"
    UNKNOWN = "Unknown"


# Conditions that decide before any kind rule (kstatus's "abnormal-true" convention).
_ABNORMAL = {"Reconciling": Status.IN_PROGRESS, "Stalled": Status.FAILED}


class Health(NamedTuple):
    """A status and kstatus's message for it."""

    status: Status
    message: str


def _current(message: str) -> Health:
    return Health(Status.CURRENT, message)


def _progress(message: str) -> Health:
    return Health(Status.IN_PROGRESS, message)


def _failed(message: str) -> Health:
    return Health(Status.FAILED, message)


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def _is_true(obj: dict[str, Any], kind: str) -> bool:
    cond = _condition(obj, kind)
    return cond is not None and cond.get("status") == "True"


def _int(section: dict[str, Any] | None, key: str, default: int = 0) -> int:
    value = (section or {}).get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _replicas(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], int]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return spec, status, _int(spec, "replicas", 1)


def _deployment(obj: dict[str, Any]) -> Health:
    spec, status, want = _replicas(obj)
    progressing = _condition(obj, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        said = progressing.get("message")
        return _failed(f"Progress deadline exceeded: {said}" if said else "Progress deadline exceeded")
    have, updated = _int(status, "replicas"), _int(status, "updatedReplicas")
    available, ready = _int(status, "availableReplicas"), _int(status, "readyReplicas")
    if want > have:
        return _progress(f"Replicas: {have}/{want}")
    if want > updated:
        return _progress(f"Updated: {updated}/{want}")
    if have > want:
        return _progress(f"Pending termination: {have - want}")
    if updated > available:
        return _progress(f"Available: {available}/{updated}")
    if want > ready:
        return _progress(f"Ready: {ready}/{want}")
    rolled_out = (progressing is not None and progressing.get("status") == "True"
                  and progressing.get("reason") == "NewReplicaSetAvailable")
    if not rolled_out and "progressDeadlineSeconds" in spec:
        return _progress("ReplicaSet not Available")
    if not _is_true(obj, "Available"):
        return _progress("Deployment not Available")
    return _current(f"Deployment is available. Replicas: {have}")


def _statefulset(obj: dict[str, Any]) -> Health:
    spec, status, want = _replicas(obj)
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type") == "OnDelete":
        return _current("StatefulSet is using the ondelete update strategy")
    have, ready = _int(status, "replicas"), _int(status, "readyReplicas")
    if want > have:
        return _progress(f"Replicas: {have}/{want}")
    if want > ready:
        return _progress(f"Ready: {ready}/{want}")
    if have > want:
        return _progress(f"Pending termination: {have - want}")
    partition = (strategy.get("rollingUpdate") or {}).get("partition")
    if isinstance(partition, int):
        updated = _int(status, "updatedReplicas")
        if updated < want - partition:
            return _progress(f"updated: {updated}/{want - partition}")
        return _current(f"Partition rollout complete. updated: {updated}")
    current = _int(status, "currentReplicas")
    if want > current:
        return _progress(f"current: {current}/{want}")
    if status.get("currentRevision") != status.get("updateRevision"):
        return _progress("Waiting for updated revision to match current")
    return _current(f"All replicas scheduled as expected. Replicas: {have}")


def _daemonset(obj: dict[str, Any]) -> Health:
    status = obj.get("status") or {}
    if "generation" not in (obj.get("metadata") or {}):
        return _progress("DaemonSet metadata.generation not found")
    if "observedGeneration" not in status:
        return _progress("DaemonSet status.observedGeneration not found")
    if "desiredNumberScheduled" not in status:
        return _progress("Missing .status.desiredNumberScheduled")
    want = _int(status, "desiredNumberScheduled")
    for key, label in (("currentNumberScheduled", "Current"), ("updatedNumberScheduled", "Updated"),
                       ("numberAvailable", "Available"), ("numberReady", "Ready")):
        if want > _int(status, key):
            return _progress(f"{label}: {_int(status, key)}/{want}")
    return _current(f"All replicas scheduled as expected. Replicas: {want}")


def _replicaset(obj: dict[str, Any]) -> Health:
    _, status, want = _replicas(obj)
    if _is_true(obj, "ReplicaFailure"):
        return _progress("Replica Failure condition. Check Pods")
    for key, label in (("fullyLabeledReplicas", "Labelled"), ("availableReplicas", "Available"),
                       ("readyReplicas", "Ready")):
        if want > _int(status, key):
            return _progress(f"{label}: {_int(status, key)}/{want}")
    have = _int(status, "replicas")
    if have > want:
        return _progress(f"Pending termination: {have - want}")
    return _current(f"ReplicaSet is available. Replicas: {have}")


def _job(obj: dict[str, Any]) -> Health:
    """Flux's Job reader (fluxcd/pkg runtime/statusreaders): Current only once complete."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if spec.get("suspend") is True:
        return _current("Job is suspended")
    parallelism = _int(spec, "parallelism", 1)
    completions = _int(spec, "completions", parallelism)
    succeeded, failed, active = _int(status, "succeeded"), _int(status, "failed"), _int(status, "active")
    if _is_true(obj, "Complete"):
        return _current(f"Job Completed. succeeded: {succeeded}/{completions}")
    failure = _condition(obj, "Failed")
    if failure is not None and failure.get("status") == "True":
        detail = f" error: {failure['message']}" if failure.get("message") else ""
        return _failed(f"Job Failed. failed: {failed}/{completions}{detail}")
    if "startTime" not in status:
        return _progress(f"Job not started. active: 0/{parallelism}")
    return _progress(f"Job in progress. success:{succeeded}, active: {active}, failed: {failed}")


def _pod(obj: dict[str, Any], now: datetime | None) -> Health:
    status = obj.get("status") or {}
    phase = status.get("phase", "")
    if phase == "Succeeded":
        return _current("Pod has completed successfully")
    if phase == "Failed":
        return _current("Pod has completed, but not successfully")
    if phase == "Running":
        if _is_true(obj, "Ready"):
            return _current("Pod is Ready")
        looping = [str(c.get("name")) for c in status.get("containerStatuses") or ()
                   if ((c.get("state") or {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"]
        if looping:
            return _failed(f"Containers in CrashLoop state: {','.join(looping)}")
        return _progress("Pod is running but is not Ready")
    if phase == "Pending":
        scheduled = _condition(obj, "PodScheduled")
        if scheduled is not None and scheduled.get("status") == "False" \
                and scheduled.get("reason") == "Unschedulable":
            created = _parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
            if now is not None and created is not None and now - created > UNSCHEDULABLE_GRACE:
                return _failed("Pod could not be scheduled")
            return _progress("Pod has not been scheduled")
        return _progress("Pod is in the Pending phase")
    if not phase:
        return _progress("Pod phase not available")
    return Health(Status.UNKNOWN, f"Unknown Pod phase {phase!r}")


def _pvc(obj: dict[str, Any]) -> Health:
    phase = (obj.get("status") or {}).get("phase")
    return _current("PVC is Bound") if phase == "Bound" else _progress(f"PVC is not Bound. phase: {phase}")


def _service(obj: dict[str, Any]) -> Health:
    spec = obj.get("spec") or {}
    if spec.get("type") == "LoadBalancer" and not spec.get("clusterIP"):
        return _progress("ClusterIP not set. Service type: LoadBalancer")
    return _current("Service is ready")


def _crd(obj: dict[str, Any]) -> Health:
    names, established = _condition(obj, "NamesAccepted"), _condition(obj, "Established")
    if names is not None and names.get("status") == "False":
        return _failed(names.get("message", ""))
    if established is not None:
        if established.get("status") == "True":
            return _current("CRD is established")
        if established.get("status") == "False" and established.get("reason") != "Installing":
            return _failed(established.get("message", ""))
    return _progress("Install in progress")


def _namespace(obj: dict[str, Any]) -> Health | None:
    if (obj.get("status") or {}).get("phase") == "Terminating":
        return Health(Status.TERMINATING, "Namespace is terminating")
    return None  # otherwise the generic Ready/Current rule


def _always_current(obj: dict[str, Any]) -> Health:
    return _current("Resource is always ready")


def _pdb(obj: dict[str, Any]) -> Health:
    return _current("AllowedDisruptions has been computed.")


_KIND_RULES: dict[tuple[str, str], Callable[[dict[str, Any]], Health | None]] = {
    **{(g, "Deployment"): _deployment for g in ("apps", "extensions")},
    **{(g, "DaemonSet"): _daemonset for g in ("apps", "extensions")},
    **{(g, "ReplicaSet"): _replicaset for g in ("apps", "extensions")},
    ("apps", "StatefulSet"): _statefulset,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _always_current,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "Service"): _service,
    ("", "ConfigMap"): _always_current,
    ("", "Secret"): _always_current,
    ("", "Namespace"): _namespace,
    ("policy", "PodDisruptionBudget"): _pdb,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}


def _parse_time(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def compute_status(obj: dict[str, Any], *, now: datetime | None = None) -> Health:
    """kstatus's status of a live object; `now` (timezone-aware) only matters for unschedulable Pods."""
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return Health(Status.TERMINATING, "Resource scheduled for deletion")
    kind = obj.get("kind", "")
    generation, observed = meta.get("generation"), (obj.get("status") or {}).get("observedGeneration")
    if generation is not None and observed is not None and generation != observed:
        return _progress(f"{kind} generation is {generation}, but latest observed generation is {observed}")
    for cond in (obj.get("status") or {}).get("conditions") or ():  # the first abnormal-true one wins
        if isinstance(cond, dict) and cond.get("status") == "True" and cond.get("type") in _ABNORMAL:
            return Health(_ABNORMAL[cond["type"]], _quoted(cond))
    group = obj.get("apiVersion", "").rpartition("/")[0]
    if kind == "Pod" and group == "":
        return _pod(obj, now)
    rule = _KIND_RULES.get((group, kind))
    verdict = rule(obj) if rule else None
    if verdict is not None:
        return verdict
    ready = _condition(obj, "Ready")
    if ready is not None and ready.get("status") == "True":
        return _current("Resource is Ready")
    if ready is not None and ready.get("status") in ("False", "Unknown"):
        return _progress(_quoted(ready))
    return _current("Resource is current")


def _quoted(condition: dict[str, Any]) -> str:
    """A condition's `reason: message`, as the object's controller wrote them."""
    return ": ".join(str(part) for part in (condition.get("reason"), condition.get("message")) if part)


@dataclass(frozen=True, slots=True)
class HealthVerdict:
    """Flux's wait outcome for a set of objects: `done` stops the wait; `message` says why."""

    done: bool
    healthy: bool
    message: str


def _listing(results: Mapping[ObjectId, Health], picked: list[ObjectId]) -> str:
    """Flux's `Kind/ns/name status: 'Failed'` per object, followed by why (the object's own words)."""
    return ", ".join(f"{oid} status: '{results[oid].status}'"
                     + (f" ({results[oid].message})" if results[oid].message else "") for oid in picked)


def assess_health(results: Mapping[ObjectId, Health], *, timed_out: bool = False) -> HealthVerdict:
    """Fail fast on a Failed object; done when all are Current or Failed; on timeout list the others."""
    failed = sorted(oid for oid, health in results.items() if health.status is Status.FAILED)
    pending = sorted(oid for oid, health in results.items() if health.status is not Status.CURRENT)
    if failed:
        message = f"failed early due to stalled resources: [{_listing(results, failed)}]"
        return HealthVerdict(True, False, message)
    if not pending:
        return HealthVerdict(True, True, "all objects are Current")
    if timed_out:
        return HealthVerdict(True, False, f"timeout waiting for: [{_listing(results, pending)}]")
    return HealthVerdict(False, False, f"waiting for: [{_listing(results, pending)}]")
