"""The two rules the deletion and failure mechanisms are built on, one case per row:

- `deletion_policy`: what removing a node from Git deletes, as kustomize-controller's
  `finalizerShouldDeleteResources` and helm-controller's `reconcileDelete` decide it;
- `dependency_blocker`: when a dependency is ready, as both controllers' `checkDependencies` do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from fluxpush.engine.run import dependency_blocker
from fluxpush.flux import parse_flux_object
from fluxpush.flux.model import ObjectRef
from fluxpush.planning.inventory import InventoryRecord, ready_condition
from fluxpush.planning.plan import NodePlan
from fluxpush.planning.removal import deletion_policy
from fluxpush.planning.result import NodeResult, Outcome

REVISION = "main@sha1:2222222222222222222222222222222222222222"
OLD = "main@sha1:1111111111111111111111111111111111111111"
DEP = ObjectRef("Kustomization", "flux-system", "infrastructure")
HR_DEP = ObjectRef("HelmRelease", "flux-system", "redis")


def _kustomization(spec: dict[str, Any], annotations: dict[str, str] | None = None) -> Any:
    meta: dict[str, Any] = {"name": "app", "namespace": "flux-system"}
    if annotations:
        meta["annotations"] = annotations
    return parse_flux_object({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": meta,
        "spec": {"interval": "5m", "path": "./app", "sourceRef": {"kind": "GitRepository", "name": "repo"},
                 **spec}})


def _helmrelease(spec: dict[str, Any]) -> Any:
    return parse_flux_object({
        "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "redis", "namespace": "flux-system"},
        "spec": {"interval": "5m", "chart": {"spec": {"chart": "redis", "sourceRef": {
            "kind": "HelmRepository", "name": "bitnami"}}}, **spec}})


@pytest.mark.parametrize(("spec", "policy"), [
    ({"prune": True}, "Delete"),  # MirrorPrune, the default, follows spec.prune
    ({"prune": False}, "Orphan"),
    ({"prune": False, "deletionPolicy": "Delete"}, "Delete"),
    ({"prune": True, "deletionPolicy": "WaitForTermination"}, "WaitForTermination"),
    ({"prune": True, "deletionPolicy": "Orphan"}, "Orphan"),
    ({"prune": True, "deletionPolicy": "Delete", "suspend": True}, "Orphan"),  # suspended: nothing
])
def test_a_kustomization_deletion_policy_is_kustomize_controllers(spec, policy):
    assert deletion_policy(_kustomization(spec))[0] == policy


def test_an_object_its_parent_may_not_prune_is_kept_whole():
    ks = _kustomization({"prune": True}, {"kustomize.toolkit.fluxcd.io/prune": "disabled"})
    policy, reason = deletion_policy(ks)
    assert policy == "Keep" and "its parent does not prune it" in reason


@pytest.mark.parametrize(("spec", "policy"), [({}, "Delete"), ({"suspend": True}, "Orphan")])
def test_a_helmrelease_is_uninstalled_unless_suspended(spec, policy):
    assert deletion_policy(_helmrelease(spec))[0] == policy


def _result(outcome: Outcome, ref: ObjectRef = DEP) -> NodeResult:
    return NodeResult(ref, outcome, str(outcome), "", NodePlan(str(ref), REVISION))


def _record(ready: bool, revision: str, ref: ObjectRef = DEP) -> InventoryRecord:
    condition = ready_condition(ready, "ReconciliationSucceeded" if ready else "HealthCheckFailed",
                                "m", datetime.now(UTC))
    return InventoryRecord(ref, last_applied_revision=revision, conditions=(condition,))


@pytest.mark.parametrize(("result", "record", "same_source", "blocked"), [
    (_result(Outcome.READY), None, True, None),
    (_result(Outcome.FAILED), _record(True, REVISION), True, "is not ready (Failed)"),
    (_result(Outcome.BLOCKED), _record(True, REVISION), True, "is not ready (DependencyNotReady)"),
    (_result(Outcome.SUSPENDED), None, True, "is not ready (never applied)"),
    (_result(Outcome.SUSPENDED), _record(True, REVISION), True, None),
    (_result(Outcome.SUSPENDED), _record(True, OLD), True, "revision is not up to date"),
    (_result(Outcome.SUSPENDED), _record(True, OLD), False, None),  # another source: no revision check
    (_result(Outcome.SUSPENDED), _record(False, REVISION), True, "is not ready (last HealthCheckFailed: m)"),
    (None, None, True, "is not ready (never applied)"),  # outside the run (reconcile ks NAME)
    (None, _record(True, OLD), True, "revision is not up to date"),
    (None, _record(True, REVISION), True, None),
])
def test_kustomization_dependency_readiness_is_check_dependencies(result, record, same_source, blocked):
    why = dependency_blocker(DEP, result, record, REVISION, same_source)
    assert (why is None) if blocked is None else (why is not None and blocked in why)


def test_a_helmrelease_dependency_needs_ready_only():
    """helm-controller's checkDependencies reads Ready and the observed generation, not the revision."""
    assert dependency_blocker(HR_DEP, None, _record(True, OLD, HR_DEP), REVISION, False) is None
    assert dependency_blocker(HR_DEP, None, _record(False, OLD, HR_DEP), REVISION, False) is not None
