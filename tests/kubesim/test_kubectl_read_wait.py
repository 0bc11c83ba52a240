"""kubectl reads, deletes and waits (cluster.md §6.5 scenarios 9-11), and a CRD followed by its CR."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest
import yaml

from kubesim.discovery import AGGREGATED_V2

pytestmark = pytest.mark.integration


def _cm(namespace: str, name: str, labels: dict[str, str], **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, **meta},
        "data": {"k": name},
    }


def _eventually(probe: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)
    return found


def test_label_and_field_selectors(kubectl, namespace):
    for name, tier in (("one", "front"), ("two", "back"), ("three", "front")):
        kubectl.apply(_cm(namespace, name, {"tier": tier, "app": "x"}))
    kubectl.apply(_cm(namespace, "plain", {}))

    def names(*args: str) -> list[str]:
        return kubectl.run("get", "cm", "-n", namespace, "-o", "name", *args).stdout.split()

    assert names("-l", "tier=front") == ["configmap/one", "configmap/three"]
    assert names("-l", "tier in (back),app") == ["configmap/two"]
    assert names("-l", "!tier") == ["configmap/plain"]
    assert names("--field-selector", "metadata.name=two") == ["configmap/two"]
    assert names("--field-selector", "metadata.name!=two", "-l", "app=x") == [
        "configmap/one",
        "configmap/three",
    ]
    bad = kubectl.run("get", "cm", "-n", namespace, "--field-selector", "data.k=one", check=False)
    assert bad.returncode == 1 and "field label not supported: data.k" in bad.stderr


def test_get_prints_a_table(kubectl, namespace, sim):
    kubectl.apply(_cm(namespace, "shown", {}))
    lines = kubectl.run("get", "cm", "-n", namespace).stdout.splitlines()
    assert lines[0].split() == ["NAME", "AGE"]
    assert lines[1].split()[0] == "shown"
    lists = [
        r
        for r in sim.requests.entries()
        if r.verb == "list" and r.path == f"/api/v1/namespaces/{namespace}/configmaps"
    ]
    assert lists and lists[-1].query.get("limit") == "500"  # kubectl pages its lists


def test_get_raw_discovery(kubectl, client):
    groups = yaml.safe_load(kubectl.run("get", "--raw", "/apis").stdout)
    assert groups["kind"] == "APIGroupList"
    assert {"groupVersion": "apps/v1", "version": "v1"} in next(
        g["versions"] for g in groups["groups"] if g["name"] == "apps"
    )
    status, headers, body = client.request(
        "GET", "/apis", headers={"Accept": f"{AGGREGATED_V2},application/json"}
    )
    assert status == 200 and headers["content-type"] == AGGREGATED_V2
    assert body["kind"] == "APIGroupDiscoveryList"
    apps = next(i for i in body["items"] if i["metadata"].get("name") == "apps")
    deployments = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert {s["subresource"] for s in deployments["subresources"]} == {"status", "scale"}
    resources = kubectl.run("api-resources", "--api-group=apps", "-o", "name").stdout.split()
    assert "deployments.apps" in resources


def test_delete_waits_for_finalizer(kubectl, namespace, sim):
    kubectl.apply(_cm(namespace, "held", {}, finalizers=["example.com/hold"]))
    deleting = subprocess.Popen(
        [
            str(kubectl.binary),
            "--cache-dir",
            str(kubectl.cache_dir),
            "--kubeconfig",
            str(kubectl.kubeconfig),
            "delete",
            "cm",
            "held",
            "-n",
            namespace,
            "--timeout=30s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        key = ("", "configmaps", namespace, "held")
        deadline = time.monotonic() + 20
        while not (sim.cluster.store.get(key) or {}).get("metadata", {}).get("deletionTimestamp"):
            assert time.monotonic() < deadline, "kubectl delete never reached the server"
            time.sleep(0.05)
        time.sleep(0.5)
        assert deleting.poll() is None, "kubectl returned while the finalizer still held the object"
        kubectl.run(
            "patch", "cm", "held", "-n", namespace, "--type=merge", "-p", '{"metadata":{"finalizers":null}}'
        )
        out, err = deleting.communicate(timeout=30)
    finally:
        deleting.kill()
    assert deleting.returncode == 0, err
    assert 'configmap "held" deleted' in out
    assert sim.cluster.store.get(key) is None
    # kubectl waited with a watch; the server logs it once it notices the client hung up.
    watches = _eventually(
        lambda: [
            r
            for r in sim.requests.entries()
            if r.verb == "watch" and r.path == f"/api/v1/namespaces/{namespace}/configmaps"
        ]
    )
    assert watches[-1].query["fieldSelector"] == "metadata.name=held"


def test_wait_for_deployment_available(kubectl, namespace, sim):
    kubectl.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        }
    )
    waited = kubectl.run("wait", "--for=condition=Available", "deploy/web", "-n", namespace, "--timeout=30s")
    assert waited.stdout.strip() == "deployment.apps/web condition met"
    live = kubectl.get("deploy", "web", "-n", namespace)
    assert live["status"]["availableReplicas"] == 2
    assert live["status"]["observedGeneration"] == live["metadata"]["generation"]
    rollout = kubectl.run("rollout", "status", "deploy/web", "-n", namespace, "--timeout=30s")
    assert "successfully rolled out" in rollout.stdout


def test_crd_then_custom_resource(kubectl, namespace):
    group = f"{namespace}.example.com"
    short = "wd" + namespace.removeprefix("t-")  # short names are global: one per test's CRD
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": [short]},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {
                                        "size": {"type": "integer"},
                                        "colors": {"type": "array", "items": {"type": "string"}},
                                    },
                                },
                                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            },
                        }
                    },
                }
            ],
        },
    }
    kubectl.apply(crd)
    kubectl.run("wait", "--for=condition=Established", f"crd/widgets.{group}", "--timeout=30s")
    widget = {
        "apiVersion": f"{group}/v1",
        "kind": "Widget",
        "metadata": {"name": "w1", "namespace": namespace},
        "spec": {"size": 3, "colors": ["red"]},
    }
    assert kubectl.apply(widget).stdout.strip() == f"widget.{group}/w1 serverside-applied"
    live = kubectl.get(f"widgets.{group}", "w1", "-n", namespace)
    assert live["spec"] == {"size": 3, "colors": ["red"]}
    assert live["metadata"]["generation"] == 1
    kubectl.apply({**widget, "spec": {"size": 4, "colors": ["red"]}})
    assert kubectl.get(f"widgets.{group}", "w1", "-n", namespace)["metadata"]["generation"] == 2
    assert kubectl.run("get", short, "-n", namespace, "-o", "name").stdout.split() == [f"widget.{group}/w1"]
