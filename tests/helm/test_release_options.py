"""HelmRelease options through the real helm on kubesim: upgrade remediation by rollback,
postRenderers and commonMetadata through helm's post-render plugin, CRD policies, and the private
kubeconfig a helm session uses."""

from __future__ import annotations

import stat

import pytest
import yaml

from conftest import HELMRELEASE, run_release_node
from fluxpush.flux.model import ObjectRef
from fluxpush.helm.session import HelmSession
from fluxpush.helm.storage import release_history

pytestmark = pytest.mark.integration
HR = ObjectRef("HelmRelease", "external-secrets", "external-secrets")
NS = "external-secrets"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "secretstores.external-secrets.io"},
    "spec": {"group": "external-secrets.io", "scope": "Namespaced",
             "names": {"kind": "SecretStore", "plural": "secretstores", "singular": "secretstore"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object", "description": "first",
                                                          "x-kubernetes-preserve-unknown-fields": True}}}]},
}


@pytest.fixture(autouse=True)
def chart_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FLUXPUSH_CACHE_DIR", str(tmp_path / "chart-cache"))


def _result(sandbox, apply=True):
    return run_release_node(sandbox, HR, apply=apply)


def test_failed_upgrade_is_rolled_back_and_retried(sandbox):
    sandbox.edit(HELMRELEASE, "  upgrade:\n    remediation:\n      retries: 3\n",
                 "  timeout: 20s\n  upgrade:\n    remediation:\n      retries: 1\n")
    assert _result(sandbox).ok
    sandbox.edit(HELMRELEASE, "  values:\n", "  values:\n    replicaCount: -1\n")
    failed = _result(sandbox)
    assert not failed.ok and "upgrade retries exhausted (2 attempts)" in failed.message
    assert failed.message.count("Helm rollback succeeded (remediation)") == 2  # remediateLastFailure: true
    history = [(r.revision, r.status) for r in release_history(sandbox.client, "external-secrets", NS)]
    assert history == [(1, "superseded"), (2, "failed"), (3, "superseded"), (4, "failed"), (5, "deployed")]
    deployment = sandbox.client.get("apps/v1", "Deployment", "external-secrets", NS)
    assert deployment["spec"]["replicas"] == 1  # the rollback restored revision 1's objects


def test_post_renderers_and_common_metadata_reach_the_objects(sandbox):
    sandbox.edit(HELMRELEASE, "  install:\n", (
        "  commonMetadata:\n    labels:\n      team: platform\n"
        "  postRenderers:\n    - kustomize:\n        images:\n"
        "          - name: ghcr.io/external-secrets/external-secrets\n            newTag: v9.9.9\n"
        "        patches:\n          - target:\n              kind: Deployment\n"
        "            patch: |\n              - op: add\n                path: /metadata/labels/patched\n"
        "                value: \"yes\"\n"
        "  install:\n"))
    preview = _result(sandbox, apply=False)
    deployment_diff = next(c.diff for c in preview.plan.changes if c.id.kind == "Deployment")
    assert "external-secrets:v9.9.9" in deployment_diff and "patched:" in deployment_diff
    assert _result(sandbox).ok
    deployment = sandbox.client.get("apps/v1", "Deployment", "external-secrets", NS)
    labels = deployment["metadata"]["labels"]
    assert (labels["patched"], labels["team"], labels["helm.toolkit.fluxcd.io/namespace"]) == \
        ("yes", "platform", NS)
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "ghcr.io/external-secrets/external-secrets:v9.9.9"
    service = sandbox.client.get("v1", "Service", "external-secrets-metrics", NS)
    service_labels = service["metadata"]["labels"]
    assert "patched" not in service_labels and service_labels["team"] == "platform"


def test_crd_policies(sandbox):
    crds = sandbox.repo / "charts" / "external-secrets" / "crds"
    crds.mkdir()
    (crds / "secretstore.yaml").write_text(yaml.safe_dump(CRD))
    sandbox.edit(HELMRELEASE, "  install:\n", "  install:\n    crds: Skip\n")
    assert _result(sandbox).ok
    name = CRD["metadata"]["name"]
    assert sandbox.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name) is None

    # upgrade.crds defaults to Skip; CreateReplace creates it, and later replaces it with the chart's.
    # Changing install/upgrade settings alone is no reason to upgrade (helm-controller compares chart
    # and values), so a value changes too.
    sandbox.edit(HELMRELEASE, "  upgrade:\n", "  upgrade:\n    crds: CreateReplace\n")
    sandbox.edit(HELMRELEASE, "  values:\n", "  values:\n    logLevel: debug\n")
    assert _result(sandbox).ok
    live = sandbox.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
    assert live["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"] == "first"
    (crds / "secretstore.yaml").write_text(yaml.safe_dump(CRD).replace("description: first",
                                                                       "description: second"))
    assert _result(sandbox).ok
    live = sandbox.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
    assert live["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"] == "second"


def test_session_kubeconfig_is_private_and_removed(sandbox):
    with HelmSession(sandbox.client) as session:
        kubeconfig = session.dir / "kubeconfig"
        assert stat.S_IMODE(session.dir.stat().st_mode) == 0o700
        assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
        assert yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]["token"] == sandbox.sim.token
        listed = session.run("list", "--all-namespaces", "-o", "json")
        assert listed.stdout.strip() == "[]"
    assert not session.dir.exists()


@pytest.mark.parametrize(("mode", "corrected"), [("enabled", True), ("warn", False)])
def test_drift_detection_modes(sandbox, mode, corrected):
    sandbox.edit(HELMRELEASE, "  install:\n", f"  driftDetection:\n    mode: {mode}\n  install:\n")
    assert _result(sandbox).ok
    sandbox.client.patch_merge("apps/v1", "Deployment", "external-secrets", {"spec": {"replicas": 4}}, NS)
    result = _result(sandbox)
    assert result.ok
    assert "drift detected in 1 object(s)" in result.message
    assert "Deployment/external-secrets/external-secrets" in result.message
    replicas = sandbox.client.get("apps/v1", "Deployment", "external-secrets", NS)["spec"]["replicas"]
    assert replicas == (1 if corrected else 4)
    assert [r.revision for r in release_history(sandbox.client, "external-secrets", NS)] == [1]


def test_dependents_of_the_kustomization_wait_for_its_release(sandbox):
    sandbox.edit(HELMRELEASE, "  values:\n", "  timeout: 15s\n  values:\n    replicaCount: -1\n")
    sandbox.edit(HELMRELEASE, "      retries: 3\n", "      retries: 0\n")
    results = {r.node.name: r for r in sandbox.run(apply=True).results}
    assert results["external-secrets"].outcome == "Failed"
    assert results["infrastructure"].ok
    for app in ("app-1", "app-2"):
        assert results[app].reason == "DependencyNotReady"
        assert "external-secrets/external-secrets" in results[app].message


def test_enabled_tests_run_after_install_and_their_failure_fails_the_release(sandbox):
    # kubesim never runs a Pod to completion, so helm's test Pod times out: a failed test.
    tests = sandbox.repo / "charts" / "external-secrets" / "templates" / "tests"
    tests.mkdir()
    (tests / "probe.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "external-secrets-probe", "annotations": {"helm.sh/hook": "test"}},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "probe", "image": "busybox:1.36"}]}}))
    sandbox.edit(HELMRELEASE, "  install:\n    remediation:\n      retries: 3\n",
                 "  test:\n    enable: true\n    timeout: 2s\n"
                 "  install:\n    remediation:\n      retries: 0\n")
    result = _result(sandbox)
    assert not result.ok
    assert "Helm install succeeded" in result.message and "Helm test failed" in result.message
    assert sandbox.client.get("v1", "Pod", "external-secrets-probe", NS) is not None

    # helm still says "deployed", but the release failed: the next run tries again (an upgrade),
    # and with ignoreFailures the failed test no longer fails it.
    sandbox.edit(HELMRELEASE, "    timeout: 2s\n", "    timeout: 2s\n    ignoreFailures: true\n")
    retried = _result(sandbox)
    assert retried.ok and "Helm upgrade succeeded" in retried.message
    assert "Helm test failed" in retried.message
    assert _result(sandbox).message == "chart, values and configuration unchanged"
