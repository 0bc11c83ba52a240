"""Status of Jobs, Pods, PVCs, Services and Namespaces as their real controllers write it."""

from __future__ import annotations

from typing import Any

from kubesim.cluster import now_rfc3339
from kubesim.controllers.progress import Progress, with_reason
from kubesim.controllers.status import condition, merge_conditions

Obj = dict[str, Any]
COMPLETED = "Reached expected number of succeeded pods"
BACKOFF = "Job has reached the specified backoff limit"
HOST_IP = "172.18.0.2"  # the single simulated node's address (kind's first node gets this one)
POD_READY_CONDITIONS = (
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
    "PodScheduled",
)


def _is_finished(status: Obj) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def job_status(obj: Obj, progress: Progress, old: Obj) -> Obj | None:
    """Job: Suspended, running, then Complete or Failed (terminal, as on a real cluster)."""
    if _is_finished(old):
        return None
    spec = obj.get("spec") or {}
    counts = {"ready": 0, "terminating": 0, "uncountedTerminatedPods": {}}
    if spec.get("suspend"):
        conditions = [condition("Suspended", True, "JobSuspended", "Job suspended")]
        return {"conditions": merge_conditions(old.get("conditions") or [], conditions), **counts}
    started = {"startTime": old.get("startTime") or now_rfc3339()}
    if progress.ready:
        conditions = [
            condition("SuccessCriteriaMet", True, "CompletionsReached", COMPLETED),
            condition("Complete", True, "CompletionsReached", COMPLETED),
        ]
        return {
            "conditions": merge_conditions([], conditions),
            **started,
            "completionTime": now_rfc3339(),
            "succeeded": int(spec.get("completions") or 1),
            **counts,
        }
    if progress.failed:
        message = with_reason(BACKOFF, str(progress.failure))
        conditions = [
            condition("FailureTarget", True, "BackoffLimitExceeded", message),
            condition("Failed", True, "BackoffLimitExceeded", message),
        ]
        failed = int(spec.get("backoffLimit", 6)) + 1
        return {"conditions": merge_conditions([], conditions), **started, "failed": failed, **counts}
    active = min(int(spec.get("parallelism", 1)), int(spec.get("completions") or 1))
    return {**started, "active": active, **counts}


def pod_status(obj: Obj, progress: Progress, old: Obj) -> Obj:
    """Pod: Pending, then Running and Ready; a failing one crash-loops."""
    containers = (obj.get("spec") or {}).get("containers") or []
    if not progress.elapsed:
        conditions = merge_conditions(old.get("conditions") or [], [condition("PodScheduled", True)])
        return {"phase": "Pending", "conditions": conditions, "hostIP": HOST_IP}
    started = old.get("startTime") or now_rfc3339()
    ready = progress.ready
    unready = f"containers with unready status: [{' '.join(c['name'] for c in containers)}]"
    conditions = [
        condition(kind, False, "ContainersNotReady", unready)
        if kind in ("Ready", "ContainersReady") and not ready
        else condition(kind, True)
        for kind in POD_READY_CONDITIONS
    ]
    state = (
        {"running": {"startedAt": started}}
        if ready
        else {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": with_reason("back-off restarting failed container", str(progress.failure)),
            }
        }
    )
    statuses = [
        {
            "name": c["name"],
            "image": c.get("image", ""),
            "imageID": "",
            "ready": ready,
            "started": ready,
            "restartCount": 0 if ready else 1,
            "state": state,
        }
        for c in containers
    ]
    return {
        "phase": "Running",
        "conditions": merge_conditions(old.get("conditions") or [], conditions),
        "hostIP": HOST_IP,
        "startTime": started,
        "containerStatuses": statuses,
    }


def pvc_status(obj: Obj, progress: Progress, old: Obj) -> Obj | None:
    """PersistentVolumeClaim: Bound with the requested capacity; a failing one stays Pending."""
    if old.get("phase") == "Bound" or not progress.ready:
        return None  # a bound claim stays bound; an unbound one stays Pending as defaulted
    spec = obj.get("spec") or {}
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    status: Obj = {"phase": "Bound", "accessModes": list(spec.get("accessModes") or [])}
    if storage:
        status["capacity"] = {"storage": storage}
    return status


def service_status(obj: Obj, progress: Progress, old: Obj, cluster_name: str) -> Obj | None:
    """Service: a LoadBalancer gets an ingress hostname; other types have nothing to report."""
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        # no longer a load balancer: the cloud controller releases it
        return {**old, "loadBalancer": {}} if (old.get("loadBalancer") or {}).get("ingress") else None
    if not progress.ready:
        return None
    meta = obj["metadata"]
    hostname = f"{meta['name']}-{meta.get('namespace', '')}.lb.{cluster_name}.local"
    return {**old, "loadBalancer": {"ingress": [{"hostname": hostname}]}}


def namespace_status(obj: Obj, progress: Progress, old: Obj) -> Obj | None:
    """Namespace: `Active` unless it is terminating (the deleter owns that phase)."""
    return None if old.get("phase") else {**old, "phase": "Active"}
