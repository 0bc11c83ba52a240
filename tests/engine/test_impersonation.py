"""spec.serviceAccountName (issue 15.5): kustomize-controller and helm-controller act as
`system:serviceaccount:<namespace>:<name>` through Impersonate-User for everything they do to the
node's objects (in the remote cluster too, with spec.kubeConfig), while the status/inventory is
written with the controller's own identity. kubesim records the header of each request."""

from __future__ import annotations

import base64

import pytest
import yaml

from fluxpush.flux.model import ObjectRef
from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.inventory import inventory_name
from fluxpush.planning.result import Outcome
from kubesim import KubeSim, Options

pytestmark = pytest.mark.integration
APP_2 = ObjectRef("Kustomization", "flux-system", "app-2")
RELEASE = ObjectRef("HelmRelease", "external-secrets", "external-secrets")
DEPLOYER = "system:serviceaccount:flux-system:app-2-deployer"


def _writes(sim, needle: str) -> dict[str, set[str]]:
    """The impersonated user of each persisted write whose path holds `needle` (by path)."""
    found: dict[str, set[str]] = {}
    for r in sim.requests.entries():
        persisted = r.method in ("POST", "PUT", "PATCH", "DELETE") and r.query.get("dryRun") != "All"
        if persisted and needle in r.path:
            found.setdefault(r.path, set()).add(r.impersonate_user)
    return found


def test_a_kustomization_with_a_service_account_writes_its_objects_as_that_account(sandbox):
    sandbox.edit("clusters/dev/apps.yaml", "  targetNamespace: app-2\n",
                 "  targetNamespace: app-2\n  serviceAccountName: app-2-deployer\n")

    run = sandbox.run(apply=True)

    result = next(r for r in run.results if r.node == APP_2)
    assert result.outcome is Outcome.READY, result.message
    assert result.plan.cluster == ""  # same cluster, another identity
    objects = _writes(sandbox.sim, "/namespaces/app-2/")
    assert objects and all(users == {DEPLOYER} for users in objects.values()), objects
    record = _writes(sandbox.sim, inventory_name(APP_2))
    assert record and all(users == {""} for users in record.values()), record
    reads = {r.impersonate_user for r in sandbox.sim.requests.entries()
             if r.method == "GET" and "/namespaces/app-2/deployments/app-2" in r.path}
    assert reads == {DEPLOYER}  # health checks too
    app_1 = _writes(sandbox.sim, "/namespaces/app-1/")
    assert app_1 and all(users == {""} for users in app_1.values())  # other nodes keep fluxpush's identity


def test_a_remote_helmrelease_with_a_service_account_runs_helm_as_that_account_in_the_spoke(sandbox):
    with KubeSim(Options(cluster_name="spoke", ready_delay=0.02, crd_delay=0.02)) as spoke, \
            KubeClient(connect_sandbox(spoke)) as spoke_client:
        text = yaml.safe_dump(spoke.kubeconfig())
        sandbox.client.apply({"apiVersion": "v1", "kind": "Namespace",
                              "metadata": {"name": "external-secrets"}}, "t")
        sandbox.client.apply({"apiVersion": "v1", "kind": "Secret",
                              "metadata": {"name": "spoke", "namespace": "external-secrets"},
                              "data": {"value": base64.b64encode(text.encode()).decode()}}, "t")
        sandbox.edit("infrastructure/external-secrets/helmrelease.yaml", "spec:\n",
                     "spec:\n  serviceAccountName: helm-deployer\n"
                     "  kubeConfig:\n    secretRef:\n      name: spoke\n")
        sandbox.edit("infrastructure/external-secrets/helmrelease.yaml", "  install:\n",
                     "  install:\n    createNamespace: true\n")

        run = sandbox.run(apply=True)

        result = next(r for r in run.results if r.node == RELEASE)
        assert result.outcome is Outcome.READY, result.message
        user = "system:serviceaccount:external-secrets:helm-deployer"
        helm_writes = {r.path: r.impersonate_user for r in spoke.requests.entries()
                       if r.method in ("POST", "PUT", "PATCH") and r.user_agent.lower().startswith("helm")}
        assert helm_writes and set(helm_writes.values()) == {user}, helm_writes
        assert spoke_client.get("apps/v1", "Deployment", "external-secrets", "external-secrets") is not None
        assert not [r for r in sandbox.sim.requests.entries() if r.impersonate_user]  # nothing in the hub
