"""The discovery cache with the server's answers given as data: what is fetched, when, and how often."""

from __future__ import annotations

import threading

import pytest

from fluxpush.errors import ClusterError
from fluxpush.kube.discovery import ApiResources, ResourceInfo


class Server:
    """Legacy discovery documents by path, and a log of what was fetched."""

    def __init__(self) -> None:
        self.documents = {
            "/api": {"versions": ["v1"]},
            "/apis": {
                "groups": [{"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}]}]
            },
            "/api/v1": {
                "resources": [
                    {"name": "configmaps", "kind": "ConfigMap", "namespaced": True},
                    {"name": "namespaces", "kind": "Namespace", "namespaced": False},
                    {"name": "namespaces/status", "kind": "Namespace", "namespaced": False},
                ]
            },
            "/apis/apps/v1": {
                "resources": [
                    {"name": "deployments", "kind": "Deployment", "namespaced": True},
                    {"name": "deployments/scale", "kind": "Scale", "namespaced": True},
                ]
            },
        }
        self.fetched: list[str] = []
        self.lock = threading.Lock()

    def get(self, path: str) -> dict | None:
        with self.lock:
            self.fetched.append(path)
        return self.documents.get(path)

    def add_group(self, group: str, kind: str, plural: str) -> None:
        self.documents["/apis"]["groups"].append(
            {"name": group, "versions": [{"groupVersion": f"{group}/v1", "version": "v1"}]}
        )
        self.documents[f"/apis/{group}/v1"] = {
            "resources": [{"name": plural, "kind": kind, "namespaced": True}]
        }


@pytest.fixture
def server() -> Server:
    return Server()


def test_group_versions_are_fetched_lazily_and_once(server):
    discovery = ApiResources(server.get)
    assert discovery.resource_for("v1", "ConfigMap") == ResourceInfo(
        "", "v1", "ConfigMap", "configmaps", True
    )
    assert discovery.resource_for("v1", "Namespace").namespaced is False
    assert server.fetched == ["/api", "/apis", "/api/v1"]
    discovery.resource_for("apps/v1", "Deployment")
    discovery.resource_for("apps/v1", "Deployment")
    assert server.fetched == ["/api", "/apis", "/api/v1", "/apis/apps/v1"]


def test_subresources_are_not_kinds(server):
    with pytest.raises(ClusterError):
        ApiResources(server.get).resource_for("apps/v1", "Scale")


def test_a_miss_refetches_the_group_list_and_that_group_version_only(server):
    discovery = ApiResources(server.get)
    discovery.resource_for("apps/v1", "Deployment")
    server.add_group("example.com", "Widget", "widgets")
    server.fetched.clear()
    assert discovery.resource_for("example.com/v1", "Widget").plural == "widgets"
    assert server.fetched == ["/api", "/apis", "/apis/example.com/v1"]
    discovery.resource_for("apps/v1", "Deployment")
    assert server.fetched == ["/api", "/apis", "/apis/example.com/v1"], "apps/v1 stayed cached"


def test_invalidate_drops_everything(server):
    discovery = ApiResources(server.get)
    discovery.resource_for("v1", "ConfigMap")
    discovery.invalidate()
    server.fetched.clear()
    discovery.resource_for("v1", "ConfigMap")
    assert server.fetched == ["/api", "/apis", "/api/v1"]


def test_concurrent_lookups_fetch_once(server):
    discovery = ApiResources(server.get)
    barrier = threading.Barrier(6)

    def lookup() -> None:
        barrier.wait()
        discovery.resource_for("apps/v1", "Deployment")

    threads = [threading.Thread(target=lookup) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.fetched == ["/api", "/apis", "/apis/apps/v1"]


@pytest.mark.parametrize(
    ("info", "namespace", "name", "subresource", "path"),
    [
        (
            ResourceInfo("", "v1", "ConfigMap", "configmaps", True),
            "apps",
            "",
            "",
            "/api/v1/namespaces/apps/configmaps",
        ),
        (ResourceInfo("", "v1", "ConfigMap", "configmaps", True), None, "", "", "/api/v1/configmaps"),
        (
            ResourceInfo("apps", "v1", "Deployment", "deployments", True),
            "a",
            "web",
            "status",
            "/apis/apps/v1/namespaces/a/deployments/web/status",
        ),
        (
            ResourceInfo("", "v1", "Namespace", "namespaces", False),
            None,
            "apps",
            "",
            "/api/v1/namespaces/apps",
        ),
    ],
)
def test_paths(info, namespace, name, subresource, path):
    assert info.path(namespace, name, subresource) == path
