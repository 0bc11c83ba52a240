"""Status of apps/v1 workloads as kube-controller-manager writes it.

Each builder takes the live object, its `Progress` and old status and returns the new status
(None: leave it). While rolling out, counters stay where the old status had them and no new
replica is updated; once ready, every counter equals the desired count.
"""

from __future__ import annotations

import math
from typing import Any

from kubesim.controllers.progress import Progress, nonzero, template_hash, with_reason
from kubesim.controllers.status import condition, merge_conditions

Obj = dict[str, Any]
SIMULATED_NODES = 1  # DaemonSets schedule on this many nodes when no Node objects exist (like kind)


def _old_count(old: Obj, field: str, cap: int) -> int:
    return min(int(old.get(field) or 0), cap)


def _max_unavailable(spec: Obj, replicas: int) -> int:
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return replicas
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return math.floor(replicas * int(value[:-1]) / 100)
    return int(value)


def deployment_status(obj: Obj, progress: Progress, old: Obj) -> Obj:
    """Deployment: Available and Progressing conditions plus replica counters."""
    spec = obj.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    replica_set = f'ReplicaSet "{obj["metadata"]["name"]}-{template_hash(spec.get("template"))}"'
    if progress.ready:
        counts = nonzero(
            replicas=replicas, updatedReplicas=replicas, readyReplicas=replicas, availableReplicas=replicas
        )
        available, progressing = (
            True,
            condition(
                "Progressing", True, "NewReplicaSetAvailable", f"{replica_set} has successfully progressed."
            ),
        )
    elif progress.failed:
        counts = nonzero(replicas=replicas, updatedReplicas=replicas, unavailableReplicas=replicas)
        available, progressing = (
            replicas == 0,
            condition(
                "Progressing",
                False,
                "ProgressDeadlineExceeded",
                with_reason(f"{replica_set} has timed out progressing.", str(progress.failure)),
            ),
        )
    else:
        ready = _old_count(old, "readyReplicas", replicas)
        available_now = (
            0
            if (spec.get("strategy") or {}).get("type") == "Recreate"
            else _old_count(old, "availableReplicas", replicas)
        )
        counts = nonzero(
            replicas=max(replicas, int(old.get("replicas") or 0)),
            readyReplicas=ready,
            availableReplicas=available_now,
            unavailableReplicas=replicas - available_now,
        )
        available = available_now >= replicas - _max_unavailable(spec, replicas)
        progressing = condition("Progressing", True, "ReplicaSetUpdated", f"{replica_set} is progressing.")
    availability = (
        condition("Available", True, "MinimumReplicasAvailable", "Deployment has minimum availability.")
        if available
        else condition(
            "Available", False, "MinimumReplicasUnavailable", "Deployment does not have minimum availability."
        )
    )
    conditions = merge_conditions(old.get("conditions") or [], [availability, progressing], update_time=True)
    return {"observedGeneration": obj["metadata"].get("generation", 1), **counts, "conditions": conditions}


def statefulset_status(obj: Obj, progress: Progress, old: Obj) -> Obj:
    """StatefulSet: counters and revisions; a failing one never becomes ready."""
    spec = obj.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    revision = f"{obj['metadata']['name']}-{template_hash(spec.get('template'))}"
    status: Obj = {"observedGeneration": obj["metadata"].get("generation", 1)}
    if progress.ready:
        status |= {"replicas": replicas} | nonzero(
            readyReplicas=replicas,
            currentReplicas=replicas,
            updatedReplicas=replicas,
            availableReplicas=replicas,
        )
        status |= {"currentRevision": revision, "updateRevision": revision, "collisionCount": 0}
        return status
    status["replicas"] = int(old.get("replicas") or 0)
    status |= nonzero(
        readyReplicas=_old_count(old, "readyReplicas", replicas),
        currentReplicas=int(old.get("currentReplicas") or 0),
        availableReplicas=_old_count(old, "availableReplicas", replicas),
    )
    status |= {
        "currentRevision": old.get("currentRevision") or revision,
        "updateRevision": revision,
        "collisionCount": int(old.get("collisionCount") or 0),
    }
    return status


def daemonset_status(obj: Obj, progress: Progress, old: Obj, nodes: int) -> Obj:
    """DaemonSet: one pod per node; a failing one never becomes ready."""
    desired = nodes or SIMULATED_NODES
    status: Obj = {
        "observedGeneration": obj["metadata"].get("generation", 1),
        "desiredNumberScheduled": desired,
        "currentNumberScheduled": desired,
        "numberMisscheduled": 0,
    }
    if progress.ready:
        return (
            status
            | {"numberReady": desired}
            | nonzero(updatedNumberScheduled=desired, numberAvailable=desired)
        )
    available = _old_count(old, "numberAvailable", desired)
    return (
        status
        | {"numberReady": _old_count(old, "numberReady", desired)}
        | nonzero(numberAvailable=available, numberUnavailable=desired - available)
    )


def replicaset_status(obj: Obj, progress: Progress, old: Obj) -> Obj:
    """ReplicaSet: pods exist at once, become ready after the delay (never when failing)."""
    replicas = int((obj.get("spec") or {}).get("replicas", 1))
    ready = replicas if progress.ready else _old_count(old, "readyReplicas", replicas)
    available = replicas if progress.ready else _old_count(old, "availableReplicas", replicas)
    return {
        "observedGeneration": obj["metadata"].get("generation", 1),
        "replicas": replicas,
        **nonzero(fullyLabeledReplicas=replicas, readyReplicas=ready, availableReplicas=available),
    }
