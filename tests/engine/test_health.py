"""kstatus rules (cluster §3, flux-semantics §6.2), one case per rule, and Flux's wait verdict.

Each case names the rule it checks. Statuses and messages match sigs.k8s.io/cli-utils kstatus
(`status/core.go`, `status/generic.go`); Jobs match Flux's own reader (fluxcd/pkg
runtime/statusreaders), which waits for completion where upstream kstatus calls a started Job
Current.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fluxpush.engine.health import Health, Status, assess_health, compute_status
from fluxpush.planning.normalize import ObjectId

CURRENT, IN_PROGRESS, FAILED = Status.CURRENT, Status.IN_PROGRESS, Status.FAILED
TERMINATING = Status.TERMINATING


def obj(api_version, kind, spec=None, status=None, **meta):
    out = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": "ns", **meta}}
    if spec is not None:
        out["spec"] = spec
    if status is not None:
        out["status"] = status
    return out


def cond(kind, status="True", reason="", message=""):
    return {"type": kind, "status": status, "reason": reason, "message": message}


ROLLED_OUT = [cond("Available"), cond("Progressing", reason="NewReplicaSetAvailable")]
DEPLOY_OK = {"replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
             "observedGeneration": 1, "conditions": ROLLED_OUT}


def deploy(spec=None, **status):
    return obj("apps/v1", "Deployment", {"replicas": 1, "progressDeadlineSeconds": 600, **(spec or {})},
               {**DEPLOY_OK, **status}, generation=1)


STS_OK = {"replicas": 2, "readyReplicas": 2, "currentReplicas": 2, "updatedReplicas": 2,
          "currentRevision": "r1", "updateRevision": "r1"}


def sts(spec=None, **status):
    return obj("apps/v1", "StatefulSet", {"replicas": 2, **(spec or {})}, {**STS_OK, **status})


DS_OK = {"observedGeneration": 1, "desiredNumberScheduled": 3, "currentNumberScheduled": 3,
         "updatedNumberScheduled": 3, "numberAvailable": 3, "numberReady": 3}
RS_OK = {"replicas": 2, "fullyLabeledReplicas": 2, "availableReplicas": 2, "readyReplicas": 2}

CASES = [
    # -- generic steps --
    ("deletionTimestamp set gives Terminating, before anything else",
     deploy(replicas=0) | {"metadata": {"name": "x", "deletionTimestamp": "2026-01-01T00:00:00Z"}},
     TERMINATING, "Resource scheduled for deletion"),
    ("observedGeneration behind generation gives InProgress",
     obj("apps/v1", "Deployment", {"replicas": 1}, {**DEPLOY_OK, "observedGeneration": 1}, generation=2),
     IN_PROGRESS, "Deployment generation is 2, but latest observed generation is 1"),
    ("a missing observedGeneration skips the generation check",
     obj("example.com/v1", "Widget", {}, {}, generation=5), CURRENT, "Resource is current"),
    ("Reconciling=True gives InProgress",
     obj("example.com/v1", "Widget", status={"conditions": [cond("Reconciling", message="working")]}),
     IN_PROGRESS, "working"),
    ("Stalled=True gives Failed",
     obj("example.com/v1", "Widget", status={"conditions": [cond("Stalled", message="bad spec")]}),
     FAILED, "bad spec"),
    ("Ready=True on an unknown kind gives Current",
     obj("example.com/v1", "Widget", status={"conditions": [cond("Ready", message="fine")]}),
     CURRENT, "Resource is Ready"),
    ("Ready=Unknown on an unknown kind gives InProgress with its message",
     obj("example.com/v1", "Widget", status={"conditions": [cond("Ready", "Unknown", message="starting")]}),
     IN_PROGRESS, "starting"),
    ("the first abnormal-true condition wins (Stalled listed before Reconciling)",
     obj("example.com/v1", "Widget", status={"conditions": [cond("Stalled", message="stuck"),
                                                             cond("Reconciling", message="busy")]}),
     FAILED, "stuck"),
    ("Stalled=True quotes the condition's reason and message",
     obj("example.com/v1", "Widget", status={"conditions": [cond("Stalled", reason="BuildFailed",
                                                                 message="chart not found")]}),
     FAILED, "BuildFailed: chart not found"),
    ("Ready=False on an unknown kind gives InProgress",
     obj("example.com/v1", "Widget", status={"conditions": [cond("Ready", "False", message="wait")]}),
     IN_PROGRESS, "wait"),
    ("an unknown kind without conditions is Current",
     obj("example.com/v1", "Widget"), CURRENT, "Resource is current"),
    ("a Flux object follows the generic path: Stalled is Failed",
     obj("kustomize.toolkit.fluxcd.io/v1", "Kustomization", {}, {
         "observedGeneration": 1,
         "conditions": [cond("Stalled", message="path not found"), cond("Ready", "False")]},
         generation=1), FAILED, "path not found"),
    # -- Deployment --
    ("Deployment: all replicas updated, ready, available and rolled out is Current",
     deploy(), CURRENT, "Deployment is available. Replicas: 1"),
    ("Deployment: ProgressDeadlineExceeded gives Failed",
     deploy(conditions=[cond("Progressing", "False", "ProgressDeadlineExceeded")]), FAILED,
     "Progress deadline exceeded"),
    ("Deployment: spec.replicas > status.replicas (LessReplicas)",
     deploy(replicas=0, updatedReplicas=0, readyReplicas=0, availableReplicas=0),
     IN_PROGRESS, "Replicas: 0/1"),
    ("Deployment: spec.replicas defaults to 1",
     obj("apps/v1", "Deployment", {}, {"replicas": 0}), IN_PROGRESS, "Replicas: 0/1"),
    ("Deployment: spec.replicas > updatedReplicas (LessUpdated)",
     deploy(updatedReplicas=0), IN_PROGRESS, "Updated: 0/1"),
    ("Deployment: status.replicas > spec (ExtraPods)",
     deploy(replicas=2), IN_PROGRESS, "Pending termination: 1"),
    ("Deployment: updatedReplicas > availableReplicas (LessAvailable)",
     deploy(availableReplicas=0), IN_PROGRESS, "Available: 0/1"),
    ("Deployment: spec.replicas > readyReplicas (LessReady)",
     deploy(readyReplicas=0), IN_PROGRESS, "Ready: 0/1"),
    ("Deployment: Progressing not NewReplicaSetAvailable with a deadline set (ReplicaSetNotAvailable)",
     deploy(conditions=[cond("Available"), cond("Progressing", reason="ReplicaSetUpdated")]),
     IN_PROGRESS, "ReplicaSet not Available"),
    ("Deployment: without progressDeadlineSeconds the Progressing reason is not needed",
     obj("apps/v1", "Deployment", {"replicas": 1}, {**DEPLOY_OK, "conditions": [cond("Available")]}),
     CURRENT, "Deployment is available. Replicas: 1"),
    ("Deployment: no Available=True (DeploymentNotAvailable)",
     deploy(conditions=[cond("Progressing", reason="NewReplicaSetAvailable")]), IN_PROGRESS,
     "Deployment not Available"),
    # -- StatefulSet --
    ("StatefulSet: OnDelete update strategy is always Current",
     sts({"updateStrategy": {"type": "OnDelete"}}, replicas=0), CURRENT,
     "StatefulSet is using the ondelete update strategy"),
    ("StatefulSet: spec.replicas > status.replicas", sts(replicas=1), IN_PROGRESS, "Replicas: 1/2"),
    ("StatefulSet: spec.replicas > readyReplicas", sts(readyReplicas=1), IN_PROGRESS, "Ready: 1/2"),
    ("StatefulSet: extra pods", sts(replicas=3, readyReplicas=3), IN_PROGRESS, "Pending termination: 1"),
    ("StatefulSet: partition, updatedReplicas < spec - partition",
     sts({"updateStrategy": {"rollingUpdate": {"partition": 1}}}, updatedReplicas=0), IN_PROGRESS,
     "updated: 0/1"),
    ("StatefulSet: partition reached is Current even with a revision mismatch",
     sts({"updateStrategy": {"rollingUpdate": {"partition": 1}}}, updatedReplicas=1, updateRevision="r2"),
     CURRENT, "Partition rollout complete. updated: 1"),
    ("StatefulSet: spec.replicas > currentReplicas (LessCurrent)",
     sts(currentReplicas=1), IN_PROGRESS, "current: 1/2"),
    ("StatefulSet: currentRevision != updateRevision (RevisionMismatch)",
     sts(updateRevision="r2"), IN_PROGRESS, "Waiting for updated revision to match current"),
    ("StatefulSet: all replicas current on one revision", sts(), CURRENT,
     "All replicas scheduled as expected. Replicas: 2"),
    # -- DaemonSet --
    ("DaemonSet: needs metadata.generation",
     obj("apps/v1", "DaemonSet", {}, DS_OK), IN_PROGRESS, "DaemonSet metadata.generation not found"),
    ("DaemonSet: needs status.observedGeneration",
     obj("apps/v1", "DaemonSet", {}, {k: v for k, v in DS_OK.items() if k != "observedGeneration"},
         generation=1), IN_PROGRESS, "DaemonSet status.observedGeneration not found"),
    ("DaemonSet: needs desiredNumberScheduled",
     obj("apps/v1", "DaemonSet", {}, {"observedGeneration": 1}, generation=1), IN_PROGRESS,
     "Missing .status.desiredNumberScheduled"),
    ("DaemonSet: desired > numberAvailable",
     obj("apps/v1", "DaemonSet", {}, {**DS_OK, "numberAvailable": 2}, generation=1), IN_PROGRESS,
     "Available: 2/3"),
    ("DaemonSet: every count reached",
     obj("apps/v1", "DaemonSet", {}, DS_OK, generation=1), CURRENT,
     "All replicas scheduled as expected. Replicas: 3"),
    # -- ReplicaSet --
    ("ReplicaSet: ReplicaFailure=True gives InProgress",
     obj("apps/v1", "ReplicaSet", {"replicas": 2}, {**RS_OK, "conditions": [cond("ReplicaFailure")]}),
     IN_PROGRESS, "Replica Failure condition. Check Pods"),
    ("ReplicaSet: spec > fullyLabeledReplicas",
     obj("apps/v1", "ReplicaSet", {"replicas": 2}, {**RS_OK, "fullyLabeledReplicas": 1}), IN_PROGRESS,
     "Labelled: 1/2"),
    ("ReplicaSet: status.replicas > spec",
     obj("apps/v1", "ReplicaSet", {"replicas": 2}, {**RS_OK, "replicas": 3}), IN_PROGRESS,
     "Pending termination: 1"),
    ("ReplicaSet: all counts reached",
     obj("apps/v1", "ReplicaSet", {"replicas": 2}, RS_OK), CURRENT, "ReplicaSet is available. Replicas: 2"),
    # -- Job (Flux's reader) --
    ("Job: Complete=True gives Current",
     obj("batch/v1", "Job", {}, {"succeeded": 1, "conditions": [cond("Complete")]}), CURRENT,
     "Job Completed. succeeded: 1/1"),
    ("Job: Failed=True gives Failed, counted against completions, with the condition's message",
     obj("batch/v1", "Job", {"completions": 2}, {"failed": 3, "conditions": [
         cond("Failed", message="BackoffLimitExceeded")]}), FAILED,
     "Job Failed. failed: 3/2 error: BackoffLimitExceeded"),
    ("Job: spec.suspend=true wins over the conditions (Flux's reader checks it first)",
     obj("batch/v1", "Job", {"suspend": True}, {"conditions": [cond("Failed")]}),
     CURRENT, "Job is suspended"),
    ("Job: spec.suspend=true gives Current", obj("batch/v1", "Job", {"suspend": True}, {}), CURRENT,
     "Job is suspended"),
    ("Job: no startTime gives InProgress (JobNotStarted)", obj("batch/v1", "Job", {"parallelism": 2}, {}),
     IN_PROGRESS, "Job not started. active: 0/2"),
    ("Job: a running Job is InProgress (Flux waits for completion; upstream kstatus says Current)",
     obj("batch/v1", "Job", {}, {"startTime": "2026-01-01T00:00:00Z", "active": 1}), IN_PROGRESS,
     "Job in progress. success:0, active: 1, failed: 0"),
    ("CronJob is always Current", obj("batch/v1", "CronJob", {}, {}), CURRENT, "Resource is always ready"),
    # -- Pod --
    ("Pod: phase Succeeded gives Current", obj("v1", "Pod", {}, {"phase": "Succeeded"}), CURRENT,
     "Pod has completed successfully"),
    ("Pod: phase Failed also gives Current (completed, not successfully)",
     obj("v1", "Pod", {}, {"phase": "Failed"}), CURRENT, "Pod has completed, but not successfully"),
    ("Pod: Running and Ready=True gives Current",
     obj("v1", "Pod", {}, {"phase": "Running", "conditions": [cond("Ready")]}), CURRENT, "Pod is Ready"),
    ("Pod: Running with a container in CrashLoopBackOff gives Failed",
     obj("v1", "Pod", {}, {"phase": "Running", "containerStatuses": [
         {"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}), FAILED,
     "Containers in CrashLoop state: app"),
    ("Pod: Running but not Ready gives InProgress", obj("v1", "Pod", {}, {"phase": "Running"}), IN_PROGRESS,
     "Pod is running but is not Ready"),
    ("Pod: Pending gives InProgress", obj("v1", "Pod", {}, {"phase": "Pending"}), IN_PROGRESS,
     "Pod is in the Pending phase"),
    ("Pod: empty phase gives InProgress", obj("v1", "Pod", {}, {}), IN_PROGRESS, "Pod phase not available"),
    ("Pod: an unknown phase cannot be computed (Unknown)", obj("v1", "Pod", {}, {"phase": "Weird"}),
     Status.UNKNOWN, "Unknown Pod phase 'Weird'"),
    # -- PVC, Service, CRD, Namespace, always-current kinds --
    ("PVC: phase Bound gives Current", obj("v1", "PersistentVolumeClaim", {}, {"phase": "Bound"}), CURRENT,
     "PVC is Bound"),
    ("PVC: anything else is InProgress (WaitForFirstConsumer never becomes healthy)",
     obj("v1", "PersistentVolumeClaim", {}, {"phase": "Pending"}),
     IN_PROGRESS, "PVC is not Bound. phase: Pending"),
    ("Service: LoadBalancer without spec.clusterIP gives InProgress",
     obj("v1", "Service", {"type": "LoadBalancer"}),
     IN_PROGRESS, "ClusterIP not set. Service type: LoadBalancer"),
    ("Service: LoadBalancer with a clusterIP is Current (the external IP is not awaited)",
     obj("v1", "Service", {"type": "LoadBalancer", "clusterIP": "10.0.0.1"}, {"loadBalancer": {}}), CURRENT,
     "Service is ready"),
    ("Service: other types are Current", obj("v1", "Service", {"type": "ClusterIP"}),
     CURRENT, "Service is ready"),
    ("CRD: NamesAccepted=False gives Failed",
     obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", {}, {"conditions": [
         cond("NamesAccepted", "False", message="name clash")]}),
     FAILED, "name clash"),
    ("CRD: Established=False with a reason other than Installing gives Failed",
     obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", {}, {"conditions": [
         cond("Established", "False", "Broken", "no")]}), FAILED, "no"),
    ("CRD: Established=False while Installing is InProgress",
     obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", {}, {"conditions": [
         cond("Established", "False", "Installing")]}), IN_PROGRESS, "Install in progress"),
    ("CRD: Established=True gives Current",
     obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", {}, {"conditions": [cond("Established")]}),
     CURRENT, "CRD is established"),
    ("Namespace: phase Terminating gives Terminating",
     obj("v1", "Namespace", {}, {"phase": "Terminating"}), TERMINATING, "Namespace is terminating"),
    ("Namespace: Active follows the generic rule (Current)",
     obj("v1", "Namespace", {}, {"phase": "Active"}), CURRENT, "Resource is current"),
    ("ConfigMap is always Current", obj("v1", "ConfigMap"), CURRENT, "Resource is always ready"),
    ("PodDisruptionBudget is Current after the generation check",
     obj("policy/v1", "PodDisruptionBudget", {}, {"observedGeneration": 1}, generation=1), CURRENT,
     "AllowedDisruptions has been computed."),
]


@pytest.mark.parametrize(("rule", "live", "status", "message"), CASES, ids=[c[0] for c in CASES])
def test_kstatus_rule(rule, live, status, message):
    assert compute_status(live) == Health(status, message)


def test_unschedulable_pod_fails_only_after_fifteen_seconds():
    created = datetime(2026, 12, 2, 5, 0, 0, tzinfo=UTC)
    pod = obj("v1", "Pod", {}, {"phase": "Pending", "conditions": [
        cond("PodScheduled", "False", "Unschedulable")]}, creationTimestamp="2026-12-02T05:00:00Z")
    assert compute_status(pod, now=created + timedelta(seconds=10)).status is IN_PROGRESS
    late = created + timedelta(seconds=16)
    assert compute_status(pod, now=late) == Health(FAILED, "Pod could not be scheduled")
    assert compute_status(pod).status is IN_PROGRESS  # without a clock it never fails


WEB = ObjectId("apps", "Deployment", "apps", "web")
DB = ObjectId("apps", "StatefulSet", "apps", "db")


def test_assess_fails_fast_on_a_failed_object():
    verdict = assess_health({WEB: Health(FAILED, "x"), DB: Health(IN_PROGRESS, "y")})
    assert (verdict.done, verdict.healthy) == (True, False)
    assert verdict.message == ("failed early due to stalled resources: "
                               "[Deployment/apps/web status: 'Failed' (x)]")


def test_assess_waits_then_lists_what_timed_out():
    results = {WEB: Health(CURRENT, ""), DB: Health(IN_PROGRESS, "")}
    assert assess_health(results).done is False
    verdict = assess_health(results, timed_out=True)
    assert (verdict.done, verdict.healthy) == (True, False)
    assert verdict.message == "timeout waiting for: [StatefulSet/apps/db status: 'InProgress']"


def test_assess_is_done_and_healthy_when_all_are_current():
    verdict = assess_health({WEB: Health(CURRENT, ""), DB: Health(CURRENT, "")})
    assert (verdict.done, verdict.healthy) == (True, True)
