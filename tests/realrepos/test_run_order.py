"""Run order on layouts real repositories use: a HelmRelease under a Kustomization that is blocked
is itself blocked by its parent (kustomize-controller never applied it), never planned as unchanged.

Shape of fluxcd/flux2-kustomize-helm-example: `apps` dependsOn `infra`, and `apps` renders the
podinfo HelmRelease; when `infra` fails, Flux never creates the HelmRelease."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxpush.app.reconcilers import default_reconcilers
from fluxpush.engine.run import run_nodes
from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.options import EngineOptions
from fluxpush.planning.result import Outcome
from fluxpush.repository.discover import DiscoverOptions, discover
from kubesim import KubeSim, Options
from realrepos.layouts import helm_release, kustomization, namespace, write_tree

pytestmark = pytest.mark.integration


def _repo(root: Path) -> Path:
    return write_tree(root, {
        "clusters/dev/infra.yaml": kustomization("infra", "./infra/missing"),
        "clusters/dev/apps.yaml": kustomization("apps", "./apps", depends_on=("infra",)),
        "apps/namespace.yaml": namespace("podinfo"),
        "apps/release.yaml": helm_release("podinfo", "podinfo"),
        "charts/demo/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
    })


@pytest.mark.parametrize("apply", [False, True])
def test_a_release_under_a_blocked_kustomization_is_blocked_by_its_parent(tmp_path, apply):
    discovery = discover(_repo(tmp_path / "repo"), DiscoverOptions(cluster_path="clusters/dev"))
    with KubeSim(Options(cluster_name="sandbox")) as sim, KubeClient(connect_sandbox(sim)) as client:
        run = run_nodes(discovery, client, EngineOptions(), apply=apply, reconcilers=default_reconcilers())
    results = {str(result.node): result for result in run.results}

    assert results["Kustomization/flux-system/infra"].outcome is Outcome.FAILED
    assert results["Kustomization/flux-system/apps"].outcome is Outcome.BLOCKED
    release = results["HelmRelease/podinfo/podinfo"]
    assert release.outcome is Outcome.BLOCKED
    assert "its parent Kustomization/flux-system/apps did not apply it" in release.message
    assert release.plan.blocked_by == (release.message,)  # so every face shows it blocked
    assert not run.ok


def _wait_repo(root: Path, wait: bool) -> Path:
    """fluxcd/flux2-multi-tenancy's shape: `kyverno` (wait: true) renders `kyverno-controller`, whose
    source installs the CRDs; `kyverno-policies` dependsOn `kyverno`."""
    return write_tree(root, {
        "clusters/dev/kyverno.yaml": kustomization("kyverno", "./infra/kyverno",
                                                   extra=f"  wait: {str(wait).lower()}\n"),
        "clusters/dev/policies.yaml": kustomization("kyverno-policies", "./infra/policies",
                                                    depends_on=("kyverno",)),
        "infra/kyverno/sync.yaml": kustomization("kyverno-controller", "./infra/not-in-git"),
        "infra/policies/ns.yaml": namespace("policies"),
    })


@pytest.mark.parametrize("wait", [True, False])
def test_dependents_of_a_waiting_kustomization_wait_for_the_kustomizations_it_renders(tmp_path, wait):
    """kustomize-controller's `wait: true` health-checks every object it applied, a Kustomization by its
    Ready condition: `kyverno` is not ready while `kyverno-controller` fails, so `kyverno-policies`
    waits. Without `wait`, `kyverno` is ready once applied."""
    discovery = discover(_wait_repo(tmp_path / "repo", wait), DiscoverOptions(cluster_path="clusters/dev"))
    with KubeSim(Options(cluster_name="sandbox")) as sim, KubeClient(connect_sandbox(sim)) as client:
        run = run_nodes(discovery, client, EngineOptions(), apply=False, reconcilers=default_reconcilers())
    results = {str(result.node): result for result in run.results}

    assert results["Kustomization/flux-system/kyverno-controller"].outcome is Outcome.FAILED
    policies = results["Kustomization/flux-system/kyverno-policies"]
    if wait:
        assert policies.outcome is Outcome.BLOCKED
        assert "dependency 'flux-system/kyverno-controller' is not ready (Failed)" in policies.message
    else:
        assert policies.outcome is Outcome.READY
