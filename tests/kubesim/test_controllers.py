"""kubesim.controllers at the Cluster/Resources layer: CRD registration, GC, workload readiness.

Readiness is judged by `kstatus()` below, a transcription of the kstatus rules
(sigs.k8s.io/cli-utils/pkg/kstatus/status, summarized in shared/reference/cluster.md §3), so the
tests check what a real kstatus poller (Flux, `fluxpush` waits) would conclude, not our own fields.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from kubesim.cluster import Cluster, Options
from kubesim.controllers import Controllers
from kubesim.controllers.timing import parse_duration
from kubesim.deletion import Deleter
from kubesim.registry import ResourceType
from kubesim.resources import Resources, WriteOptions

Obj = dict[str, Any]
DELAY = 0.05
APPLIER = WriteOptions(manager="test")
LABELS = {"app": "web"}
TEMPLATE = {"metadata": {"labels": LABELS}, "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}


# ---- a kstatus transcription ---------------------------------------------------------------------
def _cond(obj: Obj, kind: str) -> Obj | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == kind), None)


def _is_true(obj: Obj, kind: str) -> bool:
    cond = _cond(obj, kind)
    return cond is not None and cond["status"] == "True"


def _status(obj: Obj) -> tuple[Obj, Obj, int]:
    """(spec, status, wanted replicas) of an object."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return spec, status, int(spec.get("replicas", 1))


def _count(status: Obj, field: str) -> int:
    return int(status.get(field) or 0)


def _deployment_rule(obj: Obj) -> str:
    spec, status, want = _status(obj)
    progressing = _cond(obj, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return "Failed"
    replicas, updated = _count(status, "replicas"), _count(status, "updatedReplicas")
    if want > replicas or want > updated or replicas > want:
        return "InProgress"
    if updated > _count(status, "availableReplicas") or want > _count(status, "readyReplicas"):
        return "InProgress"
    new_rs = (
        progressing
        and progressing["status"] == "True"
        and progressing["reason"] == "NewReplicaSetAvailable"
    )
    if not new_rs and spec.get("progressDeadlineSeconds") is not None:
        return "InProgress"
    return "Current" if _is_true(obj, "Available") else "InProgress"


def _statefulset_rule(obj: Obj) -> str:
    _, status, want = _status(obj)
    replicas = _count(status, "replicas")
    if want > replicas or want > _count(status, "readyReplicas") or replicas > want:
        return "InProgress"
    if want > _count(status, "currentReplicas"):
        return "InProgress"
    return "Current" if status.get("currentRevision") == status.get("updateRevision") else "InProgress"


def _daemonset_rule(obj: Obj) -> str:
    _, status, _ = _status(obj)
    if "observedGeneration" not in status or "desiredNumberScheduled" not in status:
        return "InProgress"
    desired = _count(status, "desiredNumberScheduled")
    fields = ("currentNumberScheduled", "updatedNumberScheduled", "numberAvailable", "numberReady")
    return "InProgress" if any(desired > _count(status, f) for f in fields) else "Current"


def _replicaset_rule(obj: Obj) -> str:
    _, status, want = _status(obj)
    fields = ("fullyLabeledReplicas", "availableReplicas", "readyReplicas")
    bad = any(want > _count(status, f) for f in fields) or _count(status, "replicas") > want
    return "InProgress" if bad or _is_true(obj, "ReplicaFailure") else "Current"


def _job_rule(obj: Obj) -> str:
    spec, status, _ = _status(obj)
    if _is_true(obj, "Complete"):
        return "Current"
    if _is_true(obj, "Failed"):
        return "Failed"
    if _is_true(obj, "Suspended") and spec.get("suspend"):
        return "Current"
    return "Current" if status.get("startTime") else "InProgress"


def _pod_rule(obj: Obj) -> str:
    _, status, _ = _status(obj)
    phase = status.get("phase")
    if phase in ("Succeeded", "Failed"):
        return "Current"
    if phase != "Running":
        return "InProgress"
    if _is_true(obj, "Ready"):
        return "Current"
    waiting = [c["state"].get("waiting", {}) for c in status.get("containerStatuses") or []]
    return "Failed" if any(w.get("reason") == "CrashLoopBackOff" for w in waiting) else "InProgress"


def _claim_rule(obj: Obj) -> str:
    return "Current" if (obj.get("status") or {}).get("phase") == "Bound" else "InProgress"


def _crd_rule(obj: Obj) -> str:
    names, established = _cond(obj, "NamesAccepted"), _cond(obj, "Established")
    if names and names["status"] == "False":
        return "Failed"
    if established and established["status"] == "False" and established.get("reason") != "Installing":
        return "Failed"
    return "Current" if established and established["status"] == "True" else "InProgress"


_KIND_RULES = {
    "Deployment": _deployment_rule, "StatefulSet": _statefulset_rule, "DaemonSet": _daemonset_rule,
    "ReplicaSet": _replicaset_rule, "Job": _job_rule, "Pod": _pod_rule,
    "PersistentVolumeClaim": _claim_rule, "CustomResourceDefinition": _crd_rule,
}


def _kind_rule(obj: Obj) -> str | None:
    rule = _KIND_RULES.get(obj["kind"])
    return rule(obj) if rule else None


def kstatus(obj: Obj) -> str:
    """The kstatus verdict for one object."""
    meta, status = obj["metadata"], obj.get("status") or {}
    if meta.get("deletionTimestamp"):
        return "Terminating"
    if (
        "generation" in meta
        and "observedGeneration" in status
        and meta["generation"] != status["observedGeneration"]
    ):
        return "InProgress"
    if _is_true(obj, "Reconciling"):
        return "InProgress"
    if _is_true(obj, "Stalled"):
        return "Failed"
    verdict = _kind_rule(obj)
    if verdict is not None:
        return verdict
    ready = _cond(obj, "Ready")
    return "Current" if ready is None or ready["status"] == "True" else "InProgress"


# ---- fixtures and helpers --------------------------------------------------------------------------
class Sim:
    """A cluster, its write pipeline and its controllers, with small helpers for the tests."""

    def __init__(self, **options: Any) -> None:
        self.cluster = Cluster(Options(**{"ready_delay": DELAY, "crd_delay": DELAY, **options}))
        self.resources = Resources(self.cluster)
        self.controllers = Controllers(self.cluster)

    def rtype(self, group: str, plural: str, version: str = "v1") -> ResourceType:
        found = self.cluster.registry.get(group, version, plural)
        assert found is not None, f"{group}/{version}/{plural} is not served"
        return found

    def create(self, group: str, plural: str, obj: Obj, namespace: str = "default") -> Obj:
        rtype = self.rtype(group, plural, obj["apiVersion"].rsplit("/", 1)[-1])
        return self.resources.create(rtype, namespace if rtype.namespaced else "", obj, APPLIER)

    def get(self, group: str, plural: str, name: str, namespace: str = "default") -> Obj | None:
        return self.cluster.store.get((group, plural, namespace, name))

    def live(self, group: str, plural: str, name: str, namespace: str = "default") -> Obj:
        obj = self.get(group, plural, name, namespace)
        assert obj is not None, f"{plural}/{name} is gone"
        return obj

    def merge(self, group: str, plural: str, name: str, patch: Obj, namespace: str = "default") -> Obj:
        live = self.live(group, plural, name, namespace)
        rtype = self.rtype(group, plural, live["apiVersion"].rsplit("/", 1)[-1])
        return self.resources.patch(rtype, namespace, name, "merge", patch, APPLIER)[0]

    def settle(self, seconds: float = DELAY * 1.5) -> None:
        """Let the delay pass, then reconcile until nothing changes."""
        time.sleep(seconds)
        for _ in range(10):
            if not self.controllers.run_once():
                return
        raise AssertionError("controllers never settled")


@pytest.fixture
def local() -> Sim:
    """A fresh in-process cluster (`sim` is the shared HTTP server of conftest.py)."""
    return Sim()


def deployment(name: str = "web", replicas: int = 2, annotations: Obj | None = None) -> Obj:
    meta: Obj = {"name": name, **({"annotations": annotations} if annotations else {})}
    spec = {"replicas": replicas, "selector": {"matchLabels": LABELS}, "template": TEMPLATE}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def crd(
    plural: str = "widgets", kind: str = "Widget", group: str = "example.com", versions: tuple = ("v1",)
) -> Obj:
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "kind": kind, "shortNames": [plural[:2]]},
            "versions": [
                {"name": v, "served": True, "storage": i == 0, "schema": schema}
                for i, v in enumerate(versions)
            ],
        },
    }


CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")


# ---- CRDs ---------------------------------------------------------------------------------------
def test_crd_is_established_after_crd_delay_and_only_then_served(local: Sim) -> None:
    local.create(*CRDS, crd())
    local.controllers.run_once()
    installing = local.live(*CRDS, "widgets.example.com", "")
    assert kstatus(installing) == "InProgress"
    assert _cond(installing, "Established")["reason"] == "Installing"
    assert local.cluster.registry.get("example.com", "v1", "widgets") is None

    local.settle()
    live = local.live(*CRDS, "widgets.example.com", "")
    assert kstatus(live) == "Current"
    assert _is_true(live, "NamesAccepted") and _is_true(live, "Established")
    assert live["status"]["acceptedNames"] == {
        "plural": "widgets",
        "singular": "widget",
        "kind": "Widget",
        "listKind": "WidgetList",
        "shortNames": ["wi"],
    }
    assert live["status"]["storedVersions"] == ["v1"]
    served = local.cluster.registry.get("example.com", "v1", "widgets")
    assert served is not None and served.is_crd and served.kind == "Widget" and served.namespaced
    status_entry = [m for m in live["metadata"]["managedFields"] if m["manager"] == "kube-apiserver"]
    assert status_entry and status_entry[0]["subresource"] == "status"


def test_crd_registration_runs_without_workload_controllers() -> None:
    sim = Sim(controllers=False)
    sim.create(*CRDS, crd())
    sim.create("apps", "deployments", deployment())
    sim.settle()
    assert sim.cluster.registry.get("example.com", "v1", "widgets") is not None
    assert "status" not in sim.live("apps", "deployments", "web")


def test_crd_update_serves_an_added_version(local: Sim) -> None:
    local.create(*CRDS, crd())
    local.settle()
    added = crd(versions=("v1", "v2"))["spec"]["versions"]
    local.merge(*CRDS, "widgets.example.com", {"spec": {"versions": added}}, "")
    local.controllers.run_once()
    assert local.cluster.registry.get("example.com", "v2", "widgets") is not None


def test_crd_listing_versions_newest_first_settles(local: Sim) -> None:
    local.create(*CRDS, crd(versions=("v2", "v1")))
    local.settle()
    assert local.controllers.run_once() is False
    served = [t.version for t in local.cluster.registry.all() if t.group == "example.com"]
    assert served == ["v1", "v2"]


def test_crd_with_a_kind_taken_in_its_group_is_not_accepted(local: Sim) -> None:
    local.create(*CRDS, crd())
    local.settle()
    clashing = crd(plural="gadgets", kind="Widget")
    clashing["spec"]["names"]["singular"] = "gadget"
    local.create(*CRDS, clashing)
    local.settle()
    clash = local.live(*CRDS, "gadgets.example.com", "")
    assert _cond(clash, "NamesAccepted")["reason"] == "KindConflict"
    assert _cond(clash, "NamesAccepted")["message"] == '"Widget" is already in use'
    assert kstatus(clash) == "Failed"
    assert local.cluster.registry.get("example.com", "v1", "gadgets") is None


def _widget(local: Sim, name: str) -> Obj:
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": {"size": 1}}
    return local.create("example.com", "widgets", body)


def test_deleting_a_crd_removes_its_types_and_custom_resources(local: Sim) -> None:
    local.create(*CRDS, crd())
    local.settle()
    _widget(local, "one")
    _widget(local, "two")
    Deleter(local.cluster).delete(local.rtype(*CRDS), "", "widgets.example.com", {})
    local.controllers.run_once()
    assert local.cluster.registry.get("example.com", "v1", "widgets") is None
    assert local.cluster.store.list("example.com", "widgets")[0] == []
    deleted = [
        e.key[3] for e in local.cluster.store.events_after(0) if e.type == "DELETED" and e.key[1] == "widgets"
    ]
    assert sorted(deleted) == ["one", "two"]


def test_crd_cleanup_finalizer_deletes_instances_before_the_crd(local: Sim) -> None:
    body = crd()
    body["metadata"]["finalizers"] = ["customresourcecleanup.apiextensions.k8s.io"]
    local.create(*CRDS, body)
    local.settle()
    _widget(local, "one")
    code, pending = Deleter(local.cluster).delete(local.rtype(*CRDS), "", "widgets.example.com", {})
    assert code == 202 and kstatus(pending) == "Terminating"
    assert local.cluster.registry.get("example.com", "v1", "widgets") is not None  # still served meanwhile
    local.settle(0)
    assert local.get(*CRDS, "widgets.example.com", "") is None
    assert local.cluster.registry.get("example.com", "v1", "widgets") is None
    events = [(e.type, e.key[1]) for e in local.cluster.store.events_after(0) if e.type == "DELETED"]
    assert events == [("DELETED", "widgets"), ("DELETED", "customresourcedefinitions")]


# ---- Deployments -----------------------------------------------------------------------------------
def test_deployment_becomes_current_through_the_status_subresource(local: Sim) -> None:
    created = local.create("apps", "deployments", deployment())
    local.controllers.run_once()
    rolling = local.live("apps", "deployments", "web")
    assert kstatus(rolling) == "InProgress"
    assert _cond(rolling, "Available")["status"] == "False"
    local.settle()
    live = local.live("apps", "deployments", "web")
    assert kstatus(live) == "Current"
    status = live["status"]
    assert status["observedGeneration"] == 1
    assert [status[k] for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")] == [
        2
    ] * 4
    assert _cond(live, "Progressing")["reason"] == "NewReplicaSetAvailable"
    assert _cond(live, "Available")["reason"] == "MinimumReplicasAvailable"
    assert int(live["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    entry = next(m for m in live["metadata"]["managedFields"] if m["manager"] == "kube-controller-manager")
    assert entry["subresource"] == "status" and "f:status" in entry["fieldsV1"]
    modified = [
        e for e in local.cluster.store.events_after(0) if e.key[1] == "deployments" and e.type == "MODIFIED"
    ]
    assert modified and modified[-1].object["status"] == status


def test_settled_objects_are_not_rewritten(local: Sim) -> None:
    local.create("apps", "deployments", deployment())
    local.settle()
    version = local.live("apps", "deployments", "web")["metadata"]["resourceVersion"]
    assert local.controllers.run_once() is False
    assert local.live("apps", "deployments", "web")["metadata"]["resourceVersion"] == version


def test_a_new_generation_is_in_progress_until_the_delay_passes(local: Sim) -> None:
    local.create("apps", "deployments", deployment())
    local.settle()
    changed = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}}}}
    local.merge("apps", "deployments", "web", changed)
    assert kstatus(local.live("apps", "deployments", "web")) == "InProgress"  # generation 2, observed 1
    local.controllers.run_once()
    observed = local.live("apps", "deployments", "web")
    assert observed["status"]["observedGeneration"] == 2 and kstatus(observed) == "InProgress"
    local.settle()
    assert kstatus(local.live("apps", "deployments", "web")) == "Current"


def test_deployment_scaled_to_zero_is_current(local: Sim) -> None:
    local.create("apps", "deployments", deployment())
    local.settle()
    local.merge("apps", "deployments", "web", {"spec": {"replicas": 0}})
    local.settle()
    live = local.live("apps", "deployments", "web")
    assert kstatus(live) == "Current"
    assert not {"replicas", "readyReplicas", "availableReplicas"} & set(live["status"])


def test_fail_annotation_makes_a_deployment_exceed_its_progress_deadline(local: Sim) -> None:
    local.create("apps", "deployments", deployment(annotations={"kubesim.io/fail": "ImagePullBackOff"}))
    local.settle()
    live = local.live("apps", "deployments", "web")
    assert kstatus(live) == "Failed"
    progressing = _cond(live, "Progressing")
    assert progressing["status"] == "False" and progressing["reason"] == "ProgressDeadlineExceeded"
    assert "ImagePullBackOff" in progressing["message"]
    assert _cond(live, "Available")["status"] == "False"
    assert live["status"].get("readyReplicas", 0) < 2

    local.merge("apps", "deployments", "web", {"metadata": {"annotations": {"kubesim.io/fail": None}}})
    local.settle(0)
    assert kstatus(local.live("apps", "deployments", "web")) == "Current"


def test_ready_delay_annotation_overrides_the_cluster_delay(local: Sim) -> None:
    local.create("apps", "deployments", deployment("slow", annotations={"kubesim.io/ready-delay": "10s"}))
    local.create("apps", "deployments", deployment("fast"))
    local.settle()
    assert kstatus(local.live("apps", "deployments", "slow")) == "InProgress"
    assert kstatus(local.live("apps", "deployments", "fast")) == "Current"

    patient = Sim(ready_delay=30)
    patient.create("apps", "deployments", deployment("now", annotations={"kubesim.io/ready-delay": "0s"}))
    patient.controllers.run_once()
    assert kstatus(patient.live("apps", "deployments", "now")) == "Current"


def test_durations_read_like_go_durations() -> None:
    assert [parse_duration(t) for t in ("2s", "500ms", "1.5m", "1h", "3")] == [2.0, 0.5, 90.0, 3600.0, 3.0]
    assert parse_duration("soon") is None


# ---- other workloads --------------------------------------------------------------------------------
def _apps(kind: str, annotations: Obj | None = None, **spec: Any) -> Obj:
    meta: Obj = {"name": "web", **({"annotations": annotations} if annotations else {})}
    body = {"selector": {"matchLabels": LABELS}, "template": TEMPLATE, **spec}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": body}


@pytest.mark.parametrize(
    ("plural", "kind", "spec"),
    [
        ("statefulsets", "StatefulSet", {"serviceName": "web", "replicas": 3}),
        ("daemonsets", "DaemonSet", {}),
        ("replicasets", "ReplicaSet", {"replicas": 2}),
    ],
)
def test_apps_workloads_become_current(local: Sim, plural: str, kind: str, spec: Obj) -> None:
    local.create("apps", plural, _apps(kind, **spec))
    local.controllers.run_once()
    assert kstatus(local.live("apps", plural, "web")) == "InProgress"
    local.settle()
    live = local.live("apps", plural, "web")
    assert kstatus(live) == "Current"
    assert live["status"]["observedGeneration"] == 1


@pytest.mark.parametrize(
    ("plural", "kind", "spec"),
    [("statefulsets", "StatefulSet", {"serviceName": "web"}), ("daemonsets", "DaemonSet", {})],
)
def test_failing_statefulsets_and_daemonsets_never_become_ready(
    local: Sim, plural: str, kind: str, spec: Obj
) -> None:
    local.create("apps", plural, _apps(kind, {"kubesim.io/fail": "CrashLoopBackOff"}, **spec))
    local.settle()
    assert kstatus(local.live("apps", plural, "web")) == "InProgress"
    local.merge("apps", plural, "web", {"metadata": {"annotations": {"kubesim.io/fail": None}}})
    local.settle(0)
    assert kstatus(local.live("apps", plural, "web")) == "Current"


def test_statefulset_revisions_follow_the_template(local: Sim) -> None:
    local.create("apps", "statefulsets", _apps("StatefulSet", serviceName="web"))
    local.settle()
    first = local.live("apps", "statefulsets", "web")["status"]
    assert first["currentRevision"] == first["updateRevision"]
    changed = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}}}}
    local.merge("apps", "statefulsets", "web", changed)
    local.controllers.run_once()
    rolling = local.live("apps", "statefulsets", "web")
    assert (
        rolling["status"]["currentRevision"]
        == first["currentRevision"]
        != rolling["status"]["updateRevision"]
    )
    assert kstatus(rolling) == "InProgress"
    local.settle()
    assert kstatus(local.live("apps", "statefulsets", "web")) == "Current"


def _job(annotations: Obj | None = None, suspend: bool = False) -> Obj:
    pod = {"restartPolicy": "Never", "containers": [{"name": "run", "image": "busybox:1.36"}]}
    meta: Obj = {"name": "migrate", **({"annotations": annotations} if annotations else {})}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {"suspend": suspend, "template": {"spec": pod}},
    }


def test_job_completes(local: Sim) -> None:
    local.create("batch", "jobs", _job())
    local.controllers.run_once()
    running = local.live("batch", "jobs", "migrate")
    assert running["status"]["startTime"] and running["status"]["active"] == 1
    assert not _is_true(running, "Complete")
    local.settle()
    done = local.live("batch", "jobs", "migrate")
    assert _is_true(done, "Complete") and kstatus(done) == "Current"
    assert (
        done["status"]["succeeded"] == 1 and done["status"]["completionTime"] >= done["status"]["startTime"]
    )


def test_failing_job_exceeds_its_backoff_limit_and_stays_failed(local: Sim) -> None:
    local.create("batch", "jobs", _job({"kubesim.io/fail": "exit code 1"}))
    local.settle()
    failed = local.live("batch", "jobs", "migrate")
    assert kstatus(failed) == "Failed"
    assert _cond(failed, "Failed")["reason"] == "BackoffLimitExceeded"
    assert failed["status"]["failed"] == 7  # backoffLimit 6 (defaulted) + 1
    # A finished Job is terminal on a real cluster: removing the annotation does not revive it.
    local.merge("batch", "jobs", "migrate", {"metadata": {"annotations": {"kubesim.io/fail": None}}})
    local.settle(0)
    assert kstatus(local.live("batch", "jobs", "migrate")) == "Failed"


def test_suspended_job_is_current_without_starting(local: Sim) -> None:
    local.create("batch", "jobs", _job(suspend=True))
    local.settle()
    live = local.live("batch", "jobs", "migrate")
    assert _is_true(live, "Suspended") and "startTime" not in live["status"]
    assert kstatus(live) == "Current"


def _pvc(annotations: Obj | None = None) -> Obj:
    meta: Obj = {"name": "data", **({"annotations": annotations} if annotations else {})}
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec}


def test_pvc_binds_unless_told_to_fail(local: Sim) -> None:
    local.create("", "persistentvolumeclaims", _pvc())
    local.create(
        "",
        "persistentvolumeclaims",
        {
            **_pvc({"kubesim.io/fail": "no provisioner"}),
            "metadata": {"name": "stuck", "annotations": {"kubesim.io/fail": "no provisioner"}},
        },
    )
    assert kstatus(local.live("", "persistentvolumeclaims", "data")) == "InProgress"
    local.settle()
    bound = local.live("", "persistentvolumeclaims", "data")
    assert kstatus(bound) == "Current"
    assert bound["status"]["capacity"] == {"storage": "1Gi"} and bound["status"]["accessModes"] == [
        "ReadWriteOnce"
    ]
    assert local.live("", "persistentvolumeclaims", "stuck")["status"]["phase"] == "Pending"


def _pod(annotations: Obj | None = None) -> Obj:
    meta: Obj = {"name": "debug", **({"annotations": annotations} if annotations else {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": TEMPLATE["spec"]}


def test_pod_becomes_ready(local: Sim) -> None:
    local.create("", "pods", _pod())
    local.controllers.run_once()
    assert local.live("", "pods", "debug")["status"]["phase"] == "Pending"
    local.settle()
    live = local.live("", "pods", "debug")
    assert live["status"]["phase"] == "Running" and kstatus(live) == "Current"
    assert (
        next(m for m in live["metadata"]["managedFields"] if m["manager"] == "kubelet")["subresource"]
        == "status"
    )


def test_failing_pod_crash_loops(local: Sim) -> None:
    local.create("", "pods", _pod({"kubesim.io/fail": "OOMKilled"}))
    local.settle()
    live = local.live("", "pods", "debug")
    assert kstatus(live) == "Failed"
    assert "OOMKilled" in live["status"]["containerStatuses"][0]["state"]["waiting"]["message"]


def test_load_balancer_service_gets_an_ingress_hostname(local: Sim) -> None:
    ports = [{"port": 80}]
    for name, kind in (("edge", "LoadBalancer"), ("inner", "ClusterIP")):
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"type": kind, "ports": ports},
        }
        local.create("", "services", body)
    local.settle()
    ingress = local.live("", "services", "edge")["status"]["loadBalancer"]["ingress"]
    assert ingress == [{"hostname": "edge-default.lb.kubesim.local"}]
    assert local.live("", "services", "inner")["status"] == {"loadBalancer": {}}
    local.merge("", "services", "edge", {"spec": {"type": "ClusterIP", "ports": [{"port": 80}]}})
    local.settle(0)
    assert local.live("", "services", "edge")["status"] == {"loadBalancer": {}}


def test_new_namespace_is_active(local: Sim) -> None:
    local.create(
        "", "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}, ""
    )
    local.settle()
    assert local.live("", "namespaces", "team-a", "")["status"] == {"phase": "Active"}


# ---- loop and garbage collection -------------------------------------------------------------------
def test_thread_drives_readiness_and_stops() -> None:
    sim = Sim()
    before = set(threading.enumerate())
    sim.controllers.start()
    [thread] = [t for t in threading.enumerate() if t not in before]
    assert thread.daemon
    try:
        sim.create("apps", "deployments", deployment())
        deadline = time.monotonic() + 2
        while kstatus(sim.live("apps", "deployments", "web")) != "Current":
            assert time.monotonic() < deadline, "the controller thread never made the Deployment Current"
            time.sleep(0.01)
    finally:
        sim.controllers.stop()
    assert not thread.is_alive()


def test_loop_idles_until_a_write_or_a_delay_ends(local: Sim) -> None:
    controllers = local.controllers
    local.create("apps", "deployments", deployment())
    assert controllers.run_once() is True  # wrote the in-progress status
    assert controllers.run_once() is False
    assert controllers.is_idle()  # settled, and the ready delay has not ended yet
    time.sleep(DELAY * 1.5)
    assert not controllers.is_idle()  # the delay ended: the Deployment is due
    local.settle(0)
    assert controllers.is_idle() and kstatus(local.live("apps", "deployments", "web")) == "Current"
    local.create("", "configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    assert not controllers.is_idle()


def test_loop_collects_orphaned_dependents(local: Sim) -> None:
    owner = local.create(
        "", "configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}}
    )
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    dependent = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "dependent", "ownerReferences": [ref]},
    }
    local.create("", "configmaps", dependent)
    local.cluster.store.delete(("", "configmaps", "default", "owner"))  # gone without going through DELETE
    assert local.controllers.run_once() is True
    assert local.get("", "configmaps", "dependent") is None


# ---- real kubectl over HTTP (fixtures from tests/kubesim/conftest.py) -----------------------------
def _manifest(kind: str, name: str, namespace: str, spec: Obj, annotations: Obj | None = None) -> Obj:
    group = "batch/v1" if kind == "Job" else "apps/v1"
    meta: Obj = {
        "name": name,
        "namespace": namespace,
        **({"annotations": annotations} if annotations else {}),
    }
    return {"apiVersion": group, "kind": kind, "metadata": meta, "spec": spec}


@pytest.mark.integration
def test_kubectl_rollout_status_and_wait_accept_the_simulated_status(kubectl: Any, namespace: str) -> None:
    workload = {"selector": {"matchLabels": LABELS}, "template": TEMPLATE}
    kubectl.apply(_manifest("StatefulSet", "db", namespace, {**workload, "serviceName": "db", "replicas": 2}))
    kubectl.apply(_manifest("DaemonSet", "agent", namespace, workload))
    kubectl.apply(_manifest("Job", "migrate", namespace, _job()["spec"]))
    failing = _manifest("Deployment", "broken", namespace, workload, {"kubesim.io/fail": "ImagePullBackOff"})
    kubectl.apply(failing)

    sts = kubectl.run("rollout", "status", "statefulset/db", "-n", namespace, "--timeout=20s")
    assert "partitioned roll out complete: 2 new pods have been updated" in sts.stdout
    ds = kubectl.run("rollout", "status", "daemonset/agent", "-n", namespace, "--timeout=20s")
    assert 'daemon set "agent" successfully rolled out' in ds.stdout
    done = kubectl.run("wait", "--for=condition=complete", "job/migrate", "-n", namespace, "--timeout=20s")
    assert done.stdout.strip() == "job.batch/migrate condition met"
    broken = kubectl.run("rollout", "status", "deploy/broken", "-n", namespace, "--timeout=20s", check=False)
    assert broken.returncode != 0
    assert 'deployment "broken" exceeded its progress deadline' in broken.stderr
