"""KubeClient verbs against kubesim over real HTTPS (connected the `--sandbox` way)."""

from __future__ import annotations

import uuid

import pytest
from kubernetes.client import Configuration

from fluxpush.errors import ClusterError
from fluxpush.kube import ClusterConnection, KubeClient, connect_sandbox
from kube.conftest import clear_log, logged
from kubesim.tls import generate_certs

pytestmark = pytest.mark.integration


@pytest.fixture
def client(sim):
    with KubeClient(connect_sandbox(sim)) as kube:
        yield kube


@pytest.fixture
def namespace(client) -> str:
    """A fresh namespace per test: the KubeSim lives for the whole session."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, "tests")
    return name


def configmap(name: str, namespace: str, data: dict[str, str], labels: dict[str, str] | None = None) -> dict:
    metadata = {"name": name, "namespace": namespace, **({"labels": labels} if labels else {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def test_apply_creates_then_updates_with_server_side_apply(client, namespace, sim):
    created = client.apply(configmap("app", namespace, {"k": "1"}), "fluxpush")
    updated = client.apply(configmap("app", namespace, {"k": "2"}), "fluxpush")
    assert created["data"] == {"k": "1"} and updated["data"] == {"k": "2"}
    assert [m["manager"] for m in updated["metadata"]["managedFields"]] == ["fluxpush"]
    assert updated["metadata"]["managedFields"][0]["operation"] == "Apply"
    patches = [r for r in logged(sim, 3, "patch") if "/configmaps/" in r.path]
    assert len(patches) == 2
    assert patches and all(
        r.query.get("fieldManager") == "fluxpush" and r.query.get("force") == "true" for r in patches
    )


def test_dry_run_apply_and_delete_change_nothing(client, namespace, sim):
    preview = client.apply(configmap("dry", namespace, {"k": "v"}), "fluxpush", dry_run=True)
    assert preview["data"] == {"k": "v"}
    assert client.get("v1", "ConfigMap", "dry", namespace) is None
    client.apply(configmap("kept", namespace, {"k": "v"}), "fluxpush")
    assert client.delete("v1", "ConfigMap", "kept", namespace, dry_run=True) is True
    assert client.get("v1", "ConfigMap", "kept", namespace) is not None
    assert {r.query.get("dryRun") for r in sim.requests if r.verb in ("patch", "delete")} >= {"All"}


def test_get_missing_object_is_none_and_delete_reports_whether_it_existed(client, namespace, sim):
    assert client.get("v1", "ConfigMap", "absent", namespace) is None
    client.apply(configmap("gone", namespace, {}), "fluxpush")
    clear_log(sim)
    assert client.delete("v1", "ConfigMap", "gone", namespace, propagation_policy="Foreground") is True
    assert client.delete("v1", "ConfigMap", "gone", namespace) is False
    deletes = logged(sim, 2, "delete")
    assert [r.query.get("propagationPolicy") for r in deletes] == ["Foreground", "Background"]


def test_list_pages_with_continue_and_fills_apiversion_kind(sim, namespace):
    with KubeClient(connect_sandbox(sim), page_size=2) as kube:
        for i in range(5):
            kube.apply(configmap(f"cm-{i}", namespace, {}, {"app": "paged"}), "fluxpush")
        kube.apply(configmap("other", namespace, {}, {"app": "other"}), "fluxpush")
        clear_log(sim)
        items = kube.list("v1", "ConfigMap", namespace, label_selector="app=paged")
    assert sorted(i["metadata"]["name"] for i in items) == [f"cm-{i}" for i in range(5)]
    assert {(i["apiVersion"], i["kind"]) for i in items} == {("v1", "ConfigMap")}
    lists = logged(sim, 3, "list")
    assert len(lists) == 3
    assert all(r.query["limit"] == "2" and r.query["labelSelector"] == "app=paged" for r in lists)
    assert "continue" not in lists[0].query and all(r.query.get("continue") for r in lists[1:])


def test_list_across_namespaces_and_cluster_scoped(client, namespace):
    client.apply(configmap("everywhere", namespace, {}), "fluxpush")
    names = {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in client.list("v1", "ConfigMap")}
    assert (namespace, "everywhere") in names
    assert namespace in {n["metadata"]["name"] for n in client.list("v1", "Namespace")}


def test_patch_merge_sets_annotations_and_status(client, namespace):
    client.apply(configmap("annotated", namespace, {}), "fluxpush")
    patched = client.patch_merge(
        "v1",
        "ConfigMap",
        "annotated",
        {"metadata": {"annotations": {"a": "b"}}},
        namespace,
        field_manager="fluxpush-status",
    )
    assert patched["metadata"]["annotations"] == {"a": "b"}
    client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, "tests")
    status = client.patch_merge(
        "v1",
        "Namespace",
        namespace,
        {"status": {"conditions": [{"type": "Checked", "status": "True"}]}},
        subresource="status",
    )
    assert status["status"]["conditions"] == [{"type": "Checked", "status": "True"}]


def test_request_count_counts_what_the_server_received(client, namespace, sim):
    clear_log(sim)
    before = client.request_count
    client.apply(configmap("counted", namespace, {}), "fluxpush")
    client.get("v1", "ConfigMap", "counted", namespace)
    client.list("v1", "ConfigMap", namespace)
    assert client.request_count - before == len(logged(sim, 3)) == 3


def test_concurrent_applies_from_a_thread_pool(client, namespace):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda i: client.apply(configmap(f"par-{i}", namespace, {"i": str(i)}), "fluxpush"), range(24)
            )
        )
    assert sorted(r["data"]["i"] for r in results) == sorted(str(i) for i in range(24))
    assert len(client.list("v1", "ConfigMap", namespace)) >= 24


def test_wrong_token_is_a_401_cluster_error(sim):
    configuration = Configuration(
        host=sim.url,
        ca_cert_data=sim.ca_pem,
        api_key={"BearerToken": "not-it"},
        api_key_prefix={"BearerToken": "Bearer"},
    )
    with (
        KubeClient(ClusterConnection("wrong-token", configuration)) as kube,
        pytest.raises(ClusterError) as caught,
    ):
        kube.list("v1", "Namespace")
    assert caught.value.status == 401
    assert "did not accept the credentials" in caught.value.message
    assert "not-it" not in caught.value.render()
    assert [r.status for r in logged(sim, 1)] == [401], "no renewal to try, so no retry"


def test_a_ca_that_did_not_sign_the_server_is_a_tls_error(sim):
    stranger = generate_certs("stranger").ca_pem
    connection = ClusterConnection("wrong-ca", Configuration(host=sim.url, ca_cert_data=stranger))
    with KubeClient(connection) as kube, pytest.raises(ClusterError) as caught:
        kube.list("v1", "Namespace")
    assert caught.value.status is None
    assert (
        "TLS with https://127.0.0.1:" in caught.value.message
        and "CERTIFICATE_VERIFY_FAILED" in caught.value.message
    )
    assert kube.request_count == 1, "a TLS failure is not transient: no retry"
