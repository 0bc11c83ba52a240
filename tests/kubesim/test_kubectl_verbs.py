"""kubectl's other writers: client-side apply and diff, label/annotate/patch/scale, namespace deletion."""

from __future__ import annotations

import uuid

import pytest
import yaml

pytestmark = pytest.mark.integration


def _deployment(namespace: str, image: str) -> str:
    return yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "csa", "namespace": namespace},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "csa"}},
                 "template": {"metadata": {"labels": {"app": "csa"}},
                              "spec": {"containers": [{"name": "web", "image": image}]}}},
    })


def test_client_side_apply_and_diff(kubectl, namespace, sim):
    created = kubectl.run("apply", "-f", "-", stdin=_deployment(namespace, "nginx:1.26"))
    assert created.stdout.strip() == "deployment.apps/csa created"
    live = kubectl.get("deploy", "csa", "-n", namespace, "--show-managed-fields")
    assert "kubectl.kubernetes.io/last-applied-configuration" in live["metadata"]["annotations"]
    first = live["metadata"]["managedFields"][0]
    assert (first["manager"], first["operation"]) == ("kubectl-client-side-apply", "Update")
    changed = kubectl.run("diff", "-f", "-", stdin=_deployment(namespace, "nginx:1.27"), check=False)
    assert changed.returncode == 1 and "+      - image: nginx:1.27" in changed.stdout
    updated = kubectl.run("apply", "-f", "-", stdin=_deployment(namespace, "nginx:1.27"))
    assert updated.stdout.strip() == "deployment.apps/csa configured"
    patches = [r for r in sim.requests.entries()
               if r.verb == "patch" and r.path.endswith(f"/namespaces/{namespace}/deployments/csa")]
    assert patches and patches[-1].status == 200
    [container] = kubectl.get("deploy", "csa", "-n", namespace)["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "nginx:1.27"
    same = kubectl.run("diff", "-f", "-", stdin=_deployment(namespace, "nginx:1.27"), check=False)
    assert (same.returncode, same.stdout) == (0, "")


def test_label_annotate_patch_scale(kubectl, namespace):
    kubectl.run("apply", "-f", "-", stdin=_deployment(namespace, "nginx:1.27"))
    kubectl.run("label", "deploy", "csa", "-n", namespace, "tier=web")
    kubectl.run("annotate", "deploy", "csa", "-n", namespace, "note=hello")
    kubectl.run("patch", "deploy", "csa", "-n", namespace, "--type=json",
                "-p", '[{"op":"replace","path":"/spec/revisionHistoryLimit","value":3}]')
    scaled = kubectl.run("scale", "deploy", "csa", "-n", namespace, "--replicas=4")
    assert scaled.stdout.strip() == "deployment.apps/csa scaled"
    live = kubectl.get("deploy", "csa", "-n", namespace, "--show-managed-fields")
    assert live["metadata"]["labels"] == {"tier": "web"}
    assert live["metadata"]["annotations"]["note"] == "hello"
    assert (live["spec"]["revisionHistoryLimit"], live["spec"]["replicas"]) == (3, 4)
    managers = {m["manager"] for m in live["metadata"]["managedFields"]}
    assert {"kubectl-label", "kubectl-annotate", "kubectl-patch"} <= managers
    assert kubectl.run("get", "deploy", "-n", namespace, "-l", "tier=web", "-o", "name").stdout.split() == [
        "deployment.apps/csa"]


def test_delete_namespace_waits_for_its_contents(kubectl, sim):
    name = f"doomed-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "namespace", name)
    kubectl.run("create", "configmap", "inside", "-n", name, "--from-literal=a=1")
    deleted = kubectl.run("delete", "namespace", name, "--timeout=30s")
    assert deleted.stdout.strip() == f'namespace "{name}" deleted'
    assert sim.cluster.store.get(("", "namespaces", "", name)) is None
    assert sim.cluster.store.get(("", "configmaps", name, "inside")) is None
