"""The reconciler registry: a run plans and applies each node, and garbage-collects each node removed
from Git, through its kind's reconciler (`fluxpush.reconciler`); a kind the registry has no reconciler
for is refused with a clear error, before the run reads or writes anything.

Removal matches helm-controller: a HelmRelease deleted from Git is uninstalled (helm deletes its
objects), here by its parent's prune, and only once the uninstall succeeded is its record dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from fluxpush.engine.reconcile import KustomizationReconciler
from fluxpush.engine.run import RunResult, run_nodes
from fluxpush.flux.model import ObjectRef
from fluxpush.helm.reconcile import HelmReleaseReconciler
from fluxpush.helm.sources import ChartCache
from fluxpush.helm.storage import release_history
from fluxpush.kube import KubeClient
from fluxpush.nodes import Node
from fluxpush.planning import inventory as inv
from fluxpush.planning.inventory import inventory_name
from fluxpush.planning.options import EngineOptions
from fluxpush.planning.plan import NodePlan
from fluxpush.planning.removal import Removal
from fluxpush.planning.result import NodeResult
from fluxpush.reconciler import NodeRun, NoReconciler, Reconciler, Reconcilers

pytestmark = pytest.mark.integration
HR = ObjectRef("HelmRelease", "external-secrets", "external-secrets")
INFRASTRUCTURE = ObjectRef("Kustomization", "flux-system", "infrastructure")
HR_FILE_ENTRY = ("infrastructure/external-secrets/kustomization.yaml", "  - helmrelease.yaml\n", "")


@dataclass
class Recording:
    """A kind's reconciler that notes each call, then makes it on the real reconciler it wraps."""

    real: Reconciler[Any]
    calls: list[tuple[str, ObjectRef]] = field(default_factory=list)

    def plan(self, node: Node[Any], run: NodeRun) -> NodePlan:
        self.calls.append(("plan", node.ref))
        return self.real.plan(node, run)

    def apply(self, node: Node[Any], run: NodeRun) -> NodeResult:
        self.calls.append(("apply", node.ref))
        return self.real.apply(node, run)

    def remove(self, client: KubeClient, removal: Removal, timeout: float) -> str:
        self.calls.append(("remove", removal.node))
        return self.real.remove(client, removal, timeout)


def _apply(sandbox: Any, reconcilers: Reconcilers) -> RunResult:
    return run_nodes(sandbox.discover(), sandbox.client, EngineOptions(), apply=True, reconcilers=reconcilers)


def _result(run: RunResult, ref: ObjectRef) -> NodeResult:
    return next(r for r in run.results if r.node == ref)


def _registry(tmp_path: Any, helm: Reconciler[Any] | None = None) -> Reconcilers:
    helm = helm or HelmReleaseReconciler(ChartCache(tmp_path / "charts"))
    return Reconcilers({"Kustomization": KustomizationReconciler(), "HelmRelease": helm})


def test_a_kind_without_a_reconciler_is_refused_before_the_run_touches_the_cluster(sandbox):
    only_kustomizations = Reconcilers({"Kustomization": KustomizationReconciler()})
    before = sandbox.client.request_count
    with pytest.raises(NoReconciler) as refused:
        run_nodes(sandbox.discover(), sandbox.client, EngineOptions(), apply=True,
                  reconcilers=only_kustomizations)
    assert str(refused.value) == ("no reconciler for HelmRelease (this run reconciles Kustomization); build "
                                  "the registry with fluxpush.app.reconcilers.default_reconcilers()")
    assert sandbox.client.request_count == before  # nothing read, nothing written
    assert sandbox.writes() == []


def test_each_node_is_planned_and_applied_by_its_kinds_reconciler(sandbox, tmp_path):
    kustomizations = Recording(KustomizationReconciler())
    releases = Recording(HelmReleaseReconciler(ChartCache(tmp_path / "charts")))
    registry = Reconcilers({"Kustomization": kustomizations, "HelmRelease": releases})
    discovery = sandbox.discover()

    plan = run_nodes(discovery, sandbox.client, EngineOptions(), apply=False, reconcilers=registry)
    assert plan.ok, [r.message for r in plan.results if not r.ok]
    assert releases.calls == [("plan", HR)]
    assert sorted(ref for _, ref in kustomizations.calls) == sorted(
        ref for ref in discovery.nodes if ref.kind == "Kustomization")
    assert {verb for verb, _ in kustomizations.calls} == {"plan"}

    applied = _apply(sandbox, registry)
    assert applied.ok, [r.message for r in applied.results if not r.ok]
    assert releases.calls[1:] == [("apply", HR)]


def test_a_removed_helmrelease_is_uninstalled_by_the_helmrelease_reconciler(sandbox, tmp_path):
    releases = Recording(HelmReleaseReconciler(ChartCache(tmp_path / "charts")))
    registry = _registry(tmp_path, releases)
    assert _result(_apply(sandbox, registry), HR).ok
    assert release_history(sandbox.client, "external-secrets", "external-secrets") != []

    sandbox.edit(*HR_FILE_ENTRY)
    releases.calls.clear()
    gone = _result(_apply(sandbox, registry), INFRASTRUCTURE)

    assert gone.ok, gone.message
    assert releases.calls == [("remove", HR)]  # the Kustomization's prune handed the release to helm's side
    assert release_history(sandbox.client, "external-secrets", "external-secrets") == []
    assert sandbox.client.get("apps/v1", "Deployment", "external-secrets", "external-secrets") is None
    assert sandbox.client.get("v1", "ConfigMap", inventory_name(HR), HR.namespace) is None


def test_a_removed_helmrelease_without_its_reconciler_fails_the_prune_and_keeps_it(sandbox, tmp_path):
    assert _result(_apply(sandbox, _registry(tmp_path)), HR).ok
    sandbox.edit(*HR_FILE_ENTRY)  # no HelmRelease is left in Git, so the run itself may start

    refused = _result(_apply(sandbox, Reconcilers({"Kustomization": KustomizationReconciler()})),
                      INFRASTRUCTURE)

    assert not refused.ok and refused.reason == inv.PRUNE_FAILED
    assert refused.message.startswith(f"garbage collection of {HR} (removed from Git) failed: no reconciler "
                                      "for HelmRelease (this run reconciles Kustomization)")
    # Nothing of the release went, and its record stays, so the next run retries the removal.
    history = release_history(sandbox.client, "external-secrets", "external-secrets")
    assert [r.status for r in history] == ["deployed"]
    assert sandbox.client.get("v1", "ConfigMap", inventory_name(HR), HR.namespace) is not None

    retried = _result(_apply(sandbox, _registry(tmp_path)), INFRASTRUCTURE)
    assert retried.ok, retried.message
    assert release_history(sandbox.client, "external-secrets", "external-secrets") == []
