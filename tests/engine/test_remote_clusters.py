"""Hub and spoke (issue 15.5): a Kustomization with spec.kubeConfig.secretRef is applied, pruned
and health-checked in the spoke cluster its Secret describes (key `value`, as kustomize-controller
reads it), its inventory stays in the hub; nothing of it lands in the hub. Two kubesim instances.
A HelmRelease with kubeConfig is installed/upgraded in the spoke, its release storage there too.
A Secret that is missing fails the node naming the field."""

from __future__ import annotations

import base64
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from clusterdump import cluster_dump
from fluxpush.app.reconcilers import default_reconcilers
from fluxpush.engine.run import run_nodes
from fluxpush.flux.model import ObjectRef
from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.inventory import inventory_name
from fluxpush.planning.options import EngineOptions
from fluxpush.planning.result import Outcome
from fluxpush.repository.discover import DiscoverOptions, discover
from kubesim import KubeSim, Options

pytestmark = pytest.mark.integration
APP_2 = ObjectRef("Kustomization", "flux-system", "app-2")
REMOTE = "  targetNamespace: app-2\n  kubeConfig:\n    secretRef:\n      name: spoke-kubeconfig\n"


@pytest.fixture
def spoke():
    with KubeSim(Options(cluster_name="spoke", ready_delay=0.02, crd_delay=0.02)) as sim, \
            KubeClient(connect_sandbox(sim)) as client:
        yield sim, client


def _target_spoke(sandbox) -> None:
    sandbox.edit("clusters/dev/apps.yaml", "  targetNamespace: app-2\n", REMOTE)


def _store_kubeconfig(sandbox, spoke_sim, namespace: str = "flux-system") -> None:
    text = yaml.safe_dump(spoke_sim.kubeconfig())
    sandbox.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, "t")
    sandbox.client.apply({"apiVersion": "v1", "kind": "Secret",
                          "metadata": {"name": "spoke-kubeconfig", "namespace": namespace},
                          "data": {"value": base64.b64encode(text.encode()).decode()}}, "t")


def _result(run, ref):
    return next(r for r in run.results if r.node == ref)


def test_a_spoke_node_lands_in_the_spoke_and_its_inventory_in_the_hub(sandbox, spoke):
    spoke_sim, spoke_client = spoke
    _target_spoke(sandbox)
    _store_kubeconfig(sandbox, spoke_sim)

    run = sandbox.run(apply=True)

    result = _result(run, APP_2)
    assert result.outcome is Outcome.READY, result.message
    assert spoke_client.get("apps/v1", "Deployment", "app-2", "app-2") is not None
    assert sandbox.client.get("apps/v1", "Deployment", "app-2", "app-2") is None
    assert sandbox.client.get("v1", "Namespace", "app-2") is None
    assert sandbox.client.get("v1", "ConfigMap", inventory_name(APP_2), "flux-system") is not None
    assert spoke_client.get("v1", "ConfigMap", inventory_name(APP_2), "flux-system") is None
    plan = next(p for p in run.plan.nodes if p.node == APP_2)
    assert plan.cluster == "Secret/flux-system/spoke-kubeconfig"

    # prune happens in the spoke too
    (sandbox.repo / "apps/app-2/service.yaml").unlink()
    sandbox._discovery = None
    again = sandbox.run(apply=True)
    assert _result(again, APP_2).outcome is Outcome.READY, _result(again, APP_2).message
    assert spoke_client.get("v1", "Service", "app-2", "app-2") is None


def test_a_missing_kubeconfig_secret_fails_the_node_naming_the_field(sandbox, spoke):
    _target_spoke(sandbox)

    run = sandbox.run(apply=True)

    result = _result(run, APP_2)
    assert result.outcome is Outcome.FAILED
    assert "spec.kubeConfig targets another cluster (Secret/flux-system/spoke-kubeconfig)" in result.message
    assert "does not exist in the current cluster" in result.message
    assert sandbox.client.get("apps/v1", "Deployment", "app-2", "app-2") is None


def test_a_kubeconfig_file_mapping_reaches_a_spoke_whose_secret_is_elsewhere(sandbox, spoke, tmp_path: Path):
    spoke_sim, spoke_client = spoke
    _target_spoke(sandbox)
    path = spoke_sim.write_kubeconfig(tmp_path / "spoke.yaml")
    discovery = discover(sandbox.repo, DiscoverOptions(cluster_path="clusters/dev"))

    run = run_nodes(discovery, sandbox.client,
                    EngineOptions(kubeconfigs={"flux-system/spoke-kubeconfig": str(path)}), apply=True,
                    reconcilers=default_reconcilers())

    assert _result(run, APP_2).outcome is Outcome.READY, _result(run, APP_2).message
    assert spoke_client.get("apps/v1", "Deployment", "app-2", "app-2") is not None


def test_cli_plan_names_the_target_cluster_and_apply_uses_the_mapping(sandbox, spoke, run_cli, tmp_path):
    spoke_sim, spoke_client = spoke
    _target_spoke(sandbox)
    hub = sandbox.sim.write_kubeconfig(tmp_path / "hub.yaml")
    spoke_file = spoke_sim.write_kubeconfig(tmp_path / "spoke.yaml")
    common = ("--repo", str(sandbox.repo), "--path", "clusters/dev", "--kubeconfig", str(hub),
              "--kubeconfig-for", f"flux-system/spoke-kubeconfig={spoke_file}")

    plan = run_cli("diff", *common)
    assert "📁 Kustomization/flux-system/app-2" in plan.out
    assert "→ cluster of Secret/flux-system/spoke-kubeconfig" in plan.out

    applied = run_cli("apply", *common)
    assert spoke_client.get("apps/v1", "Deployment", "app-2", "app-2") is not None, applied.out + applied.err
    assert sandbox.client.get("apps/v1", "Deployment", "app-2", "app-2") is None

    bad = run_cli("diff", *common[:-1], "flux-system/spoke-kubeconfig")
    assert bad.code == 2 and "expected NAMESPACE/NAME=FILE" in bad.err


def test_the_pr_comment_names_the_target_cluster():
    from fluxpush.action.render import node_label
    from fluxpush.planning.plan import NodePlan, Plan

    spoke_plan = NodePlan(ObjectRef.parse("Kustomization/flux-system/app-2"), "main@sha1:1",
                          cluster="Secret/flux-system/spoke")
    assert node_label(spoke_plan) == "Kustomization/flux-system/app-2 → cluster of Secret/flux-system/spoke"
    local = NodePlan(ObjectRef.parse("Kustomization/flux-system/app-1"), "r")
    assert node_label(local) == "Kustomization/flux-system/app-1"
    again = Plan.from_json(Plan((spoke_plan,)).to_json())
    assert again.nodes[0].cluster == "Secret/flux-system/spoke"


RELEASE = ObjectRef("HelmRelease", "external-secrets", "external-secrets")
REMOTE_RELEASE = "spec:\n  kubeConfig:\n    secretRef:\n      name: spoke-kubeconfig\n"


def _remote_release(sandbox, spoke_sim) -> None:
    """The HelmRelease targets the spoke; its kubeconfig Secret sits in the HelmRelease's namespace
    in the hub, as helm-controller reads it."""
    _store_kubeconfig(sandbox, spoke_sim, namespace="external-secrets")
    sandbox.edit("infrastructure/external-secrets/helmrelease.yaml", "spec:\n", REMOTE_RELEASE)
    sandbox.edit("infrastructure/external-secrets/helmrelease.yaml", "  install:\n",
                 "  install:\n    createNamespace: true\n")


def _helm_storage(client, namespace="external-secrets"):
    return sorted(s["metadata"]["name"] for s in client.list("v1", "Secret", namespace,
                                                              label_selector="owner=helm"))


def test_a_helmrelease_with_kubeconfig_is_installed_and_stored_in_the_spoke(sandbox, spoke):
    """helm-controller with spec.kubeConfig builds its action config (and so its release storage)
    from the remote kubeconfig; the HelmRelease and its status stay in the management cluster."""
    spoke_sim, spoke_client = spoke
    _remote_release(sandbox, spoke_sim)
    hub_before, spoke_before = cluster_dump(sandbox), cluster_dump(SimpleNamespace(sim=spoke_sim))

    run = sandbox.run(apply=True)

    result = _result(run, RELEASE)
    assert result.outcome is Outcome.READY, result.message
    assert _helm_storage(spoke_client) == ["sh.helm.release.v1.external-secrets.v1"]
    assert _helm_storage(sandbox.client) == []
    spoke_after = cluster_dump(SimpleNamespace(sim=spoke_sim))
    added = sorted(set(spoke_after) - set(spoke_before))
    assert "apps/v1 Deployment external-secrets/external-secrets" in added
    assert "v1 Namespace /external-secrets" in added
    hub_added = sorted(set(cluster_dump(sandbox)) - set(hub_before))
    assert "v1 ConfigMap external-secrets/" + inventory_name(RELEASE) in hub_added
    assert not [k for k in hub_added if "Deployment external-secrets" in k or "sh.helm.release" in k]
    assert result.plan.cluster == "Secret/external-secrets/spoke-kubeconfig"

    # the next plan reads the release back from the spoke (nothing to do) and writes nothing anywhere
    hub_before, spoke_before = cluster_dump(sandbox), spoke_after
    again = sandbox.run(apply=False)
    unchanged = next(p for p in again.plan.nodes if p.node == RELEASE)
    assert unchanged.cluster == "Secret/external-secrets/spoke-kubeconfig" and not unchanged.error
    assert unchanged.changes[0].action.value == "unchanged", unchanged.changes[0]
    assert cluster_dump(sandbox) == hub_before
    assert cluster_dump(SimpleNamespace(sim=spoke_sim)) == spoke_before


def test_a_remote_helmrelease_upgrade_runs_in_the_spoke(sandbox, spoke):
    spoke_sim, spoke_client = spoke
    _remote_release(sandbox, spoke_sim)
    assert _result(sandbox.run(apply=True), RELEASE).outcome is Outcome.READY
    sandbox.edit("infrastructure/external-secrets/helmrelease.yaml", "role/eso-role", "role/eso-role-2")

    run = sandbox.run(apply=True)

    assert _result(run, RELEASE).outcome is Outcome.READY, _result(run, RELEASE).message
    assert _helm_storage(spoke_client)[-1] == "sh.helm.release.v1.external-secrets.v2"
    assert _helm_storage(sandbox.client) == []
    account = spoke_client.get("v1", "ServiceAccount", "external-secrets", "external-secrets")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith("eso-role-2")


def test_a_remote_helmrelease_whose_secret_is_missing_installs_nothing_anywhere(sandbox, spoke):
    _, spoke_client = spoke
    sandbox.edit("infrastructure/external-secrets/helmrelease.yaml", "spec:\n", REMOTE_RELEASE)
    sandbox.edit("infrastructure/external-secrets/helmrelease.yaml", "  install:\n",
                 "  install:\n    createNamespace: true\n")

    run = sandbox.run(apply=True)

    result = _result(run, RELEASE)
    assert result.outcome is Outcome.FAILED
    where = "Secret/external-secrets/spoke-kubeconfig"
    assert f"spec.kubeConfig targets another cluster ({where})" in result.message
    assert _helm_storage(sandbox.client) == [] and _helm_storage(spoke_client) == []


def test_a_remote_helmrelease_removed_from_git_is_kept_in_the_spoke_and_said_so(sandbox, spoke):
    """Its record in the hub names the spoke; once spec.kubeConfig has left Git fluxpush cannot reach
    that cluster, so nothing is uninstalled anywhere (never the hub's same-named release) and the
    record stays as the list of what to delete there."""
    spoke_sim, spoke_client = spoke
    _remote_release(sandbox, spoke_sim)
    assert _result(sandbox.run(apply=True), RELEASE).outcome is Outcome.READY
    record = sandbox.client.get("v1", "ConfigMap", inventory_name(RELEASE), "external-secrets")
    assert record["data"]["cluster"] == "Secret/external-secrets/spoke-kubeconfig"
    sandbox.edit("infrastructure/external-secrets/kustomization.yaml", "  - helmrelease.yaml\n", "")
    spoke_before = cluster_dump(SimpleNamespace(sim=spoke_sim))

    run = sandbox.run(apply=True)

    infra = _result(run, ObjectRef("Kustomization", "flux-system", "infrastructure"))
    assert infra.outcome is Outcome.READY, infra.message
    skipped = [c for c in infra.plan.changes if c.id.kind == "HelmRelease"]
    assert skipped and "another cluster (Secret/external-secrets/spoke-kubeconfig)" in skipped[0].reason
    assert cluster_dump(SimpleNamespace(sim=spoke_sim)) == spoke_before
    assert _helm_storage(spoke_client) == ["sh.helm.release.v1.external-secrets.v1"]
    assert sandbox.client.get("v1", "ConfigMap", inventory_name(RELEASE), "external-secrets") is not None


CHILD = ObjectRef("Kustomization", "app-2", "app-2-child")
CHILD_SPEC = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app-2-child
spec:
  interval: 5m
  path: ./apps/child
  prune: true
  targetNamespace: child
  sourceRef:
    kind: GitRepository
    name: gitops-platform
    namespace: flux-system
"""


def test_a_child_removed_from_a_remote_parent_is_collected_from_its_records_in_the_hub(sandbox, spoke):
    """The child's record lives in the management cluster (as every node's does); removing the child
    from the spoke parent's output must find it there and collect it, not look in the spoke and
    report it as having no record."""
    spoke_sim, spoke_client = spoke
    _target_spoke(sandbox)
    _store_kubeconfig(sandbox, spoke_sim)
    sandbox.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app-2"}}, "t")
    (sandbox.repo / "apps/app-2/child.yaml").write_text(CHILD_SPEC)
    (sandbox.repo / "apps/child").mkdir()
    (sandbox.repo / "apps/child/namespace.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: child\n")
    (sandbox.repo / "apps/child/settings.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: child-settings\ndata:\n  a: b\n")
    sandbox._discovery = None
    first = sandbox.run(apply=True)
    assert _result(first, CHILD).outcome is Outcome.READY, _result(first, CHILD).message
    assert sandbox.client.get("v1", "ConfigMap", "child-settings", "child") is not None
    assert sandbox.client.get("v1", "ConfigMap", inventory_name(CHILD), "app-2") is not None
    (sandbox.repo / "apps/app-2/child.yaml").unlink()
    sandbox._discovery = None
    hub_before = cluster_dump(sandbox)

    planned = sandbox.run(apply=False)
    plan = next(p for p in planned.plan.nodes if p.node == APP_2)
    removal = [c for c in plan.prune if c.id.kind == "Kustomization" and c.id.name == "app-2-child"]
    assert removal and "no inventory record" not in removal[0].reason, plan.prune
    assert any(c.id.name == "child-settings" for c in plan.prune), plan.prune
    run = sandbox.run(apply=True, allow_destructive_prune=True)  # the child's Namespace goes too

    assert _result(run, APP_2).outcome is Outcome.READY, _result(run, APP_2).message
    gone = set(hub_before) - set(cluster_dump(sandbox))
    assert {"v1 ConfigMap child/child-settings", "v1 Namespace /child"} <= gone
    assert f"v1 ConfigMap app-2/{inventory_name(CHILD)}" in gone
    assert spoke_client.get("apps/v1", "Deployment", "app-2", "app-2") is not None
