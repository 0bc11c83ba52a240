"""The official `kubernetes` Python client (v37), unchanged, against kubesim: typed, dynamic, SSA, watch."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config, dynamic, watch
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.integration

APPLY = "application/apply-patch+yaml"


@pytest.fixture(scope="module")
def api_client(kubeconfig) -> Iterator[k8s.ApiClient]:
    api = config.new_client_from_config(config_file=str(kubeconfig))
    yield api
    api.close()


@pytest.fixture(scope="module")
def core(api_client) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(api_client)


def _cm(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": name}},
        "data": data,
    }


def test_typed_create_read_list_delete(core, namespace):
    created = core.create_namespaced_config_map(namespace, _cm("typed", {"a": "1"}))
    assert created.metadata.uid and created.metadata.resource_version
    assert [m.manager for m in created.metadata.managed_fields] == ["OpenAPI-Generator"]  # from User-Agent
    read = core.read_namespaced_config_map("typed", namespace)
    assert read.data == {"a": "1"}
    listed = core.list_namespaced_config_map(namespace, label_selector="app=typed")
    assert [i.metadata.name for i in listed.items] == ["typed"]
    assert int(listed.metadata.resource_version) >= int(read.metadata.resource_version)
    with pytest.raises(ApiException) as taken:
        core.create_namespaced_config_map(namespace, _cm("typed", {}))
    assert taken.value.status == 409 and '"reason":"AlreadyExists"' in taken.value.body
    core.delete_namespaced_config_map("typed", namespace)
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("typed", namespace)
    assert missing.value.status == 404


def test_typed_server_side_apply_and_conflict(core, namespace):
    applied = core.patch_namespaced_config_map(
        "ssa", namespace, _cm("ssa", {"a": "1"}), field_manager="deployer", _content_type=APPLY
    )
    assert applied.data == {"a": "1"}
    assert [(m.manager, m.operation) for m in applied.metadata.managed_fields] == [("deployer", "Apply")]
    with pytest.raises(ApiException) as conflict:
        core.patch_namespaced_config_map(
            "ssa", namespace, _cm("ssa", {"a": "2"}), field_manager="rival", _content_type=APPLY
        )
    assert conflict.value.status == 409 and "FieldManagerConflict" in conflict.value.body
    forced = core.patch_namespaced_config_map(
        "ssa", namespace, _cm("ssa", {"a": "2"}), field_manager="rival", force=True, _content_type=APPLY
    )
    assert forced.data == {"a": "2"}
    dry = core.patch_namespaced_config_map(
        "ssa", namespace, _cm("ssa", {"a": "3"}), field_manager="rival", dry_run="All", _content_type=APPLY
    )
    assert dry.data == {"a": "3"}
    assert core.read_namespaced_config_map("ssa", namespace).data == {"a": "2"}


def test_dynamic_client_apply_get_delete(api_client, namespace, tmp_path):
    client = dynamic.DynamicClient(api_client, cache_file=str(tmp_path / "discovery.json"))
    deployments = client.resources.get(api_version="apps/v1", kind="Deployment")
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "dyn", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": "dyn"}},
            "template": {
                "metadata": {"labels": {"app": "dyn"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    applied = deployments.server_side_apply(
        body=body, namespace=namespace, field_manager="deployer", force_conflicts=True
    )
    assert applied.metadata.generation == 1
    assert applied.spec.replicas == 1  # defaulted by the server
    assert applied.spec.template.spec.containers[0].imagePullPolicy == "Always"  # untagged image
    listed = deployments.get(namespace=namespace)
    assert [i.metadata.name for i in listed.items] == ["dyn"]
    deployments.delete(name="dyn", namespace=namespace, propagation_policy="Foreground")
    with pytest.raises(dynamic.exceptions.NotFoundError):
        for _ in range(100):  # Foreground deletion finishes once the garbage collector has run
            deployments.get(name="dyn", namespace=namespace)
            time.sleep(0.05)


def test_watch_stream_sees_changes(core, namespace):
    events: list[tuple[str, str]] = []
    started = threading.Event()

    def follow() -> None:
        stream = watch.Watch().stream(
            core.list_namespaced_config_map, namespace, timeout_seconds=3, allow_watch_bookmarks=True
        )
        started.set()
        for event in stream:
            events.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                return

    follower = threading.Thread(target=follow)
    follower.start()
    started.wait(5)
    time.sleep(0.3)
    core.create_namespaced_config_map(namespace, _cm("watched", {"a": "1"}))
    core.patch_namespaced_config_map("watched", namespace, {"data": {"a": "2"}})
    core.delete_namespaced_config_map("watched", namespace)
    follower.join(10)
    assert events == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")]
