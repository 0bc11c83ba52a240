"""LiveIndex against kubesim over HTTPS: one LIST per collection, a LIST across namespaces once a
type was read in LIST_ALL_AFTER namespaces, and concurrent readers sharing one LIST."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.live import GET_AT_MOST, LIST_ALL_AFTER, LiveIndex
from kubesim import KubeSim, Options

NAMESPACES = [f"team-{i}" for i in range(LIST_ALL_AFTER + 3)]


def _configmap(namespace: str, name: str = "settings") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": {"owner": namespace}}


@pytest.fixture(scope="module")
def cluster():
    with KubeSim(Options(controllers=False)) as sim, KubeClient(connect_sandbox(sim)) as client:
        for namespace in NAMESPACES:
            client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, "test")
            client.apply(_configmap(namespace), "test")
        yield sim, client


def _lists(sim: KubeSim) -> list[str]:
    return [e.path for e in sim.requests.entries() if e.verb == "list"]


def test_many_namespaces_of_one_type_are_listed_once_across_all(cluster):
    sim, client = cluster
    index = LiveIndex(client)
    index.get(_configmap(NAMESPACES[0]))  # discovery warmed up before counting
    sim.requests.clear()
    for namespace in NAMESPACES[1:]:
        assert index.get(_configmap(namespace))["data"] == {"owner": namespace}
    assert index.get(_configmap("no-such-namespace")) is None
    assert index.get(_configmap(NAMESPACES[-1], "absent")) is None
    per_namespace = [f"/api/v1/namespaces/{ns}/configmaps" for ns in NAMESPACES[1:LIST_ALL_AFTER]]
    assert _lists(sim) == [*per_namespace, "/api/v1/configmaps"]


def test_a_written_namespace_is_listed_again_alone(cluster):
    sim, client = cluster
    index = LiveIndex(client)
    for namespace in NAMESPACES:
        index.get(_configmap(namespace))
    client.apply({**_configmap(NAMESPACES[0]), "data": {"owner": "changed"}}, "test")
    index.forget(_configmap(NAMESPACES[0]))
    fresh = _configmap("team-late", "fresh")  # in a namespace the index has not been asked about
    client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-late"}}, "test")
    client.apply(fresh, "test")
    index.forget(fresh)
    sim.requests.clear()
    assert index.get(_configmap(NAMESPACES[0]))["data"] == {"owner": "changed"}
    assert index.get(fresh)["data"] == {"owner": "team-late"}
    assert index.get(_configmap(NAMESPACES[2]))["data"] == {"owner": NAMESPACES[2]}
    assert _lists(sim) == [f"/api/v1/namespaces/{ns}/configmaps" for ns in (NAMESPACES[0], "team-late")]


def test_concurrent_readers_of_one_collection_share_a_single_list(cluster):
    sim, client = cluster
    index = LiveIndex(client)
    index.is_served("v1", "ConfigMap")
    sim.requests.clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda _: index.get(_configmap(NAMESPACES[2])), range(16)))
    assert all(obj["data"] == {"owner": NAMESPACES[2]} for obj in found)
    assert _lists(sim) == [f"/api/v1/namespaces/{NAMESPACES[2]}/configmaps"]


def _namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def test_an_index_told_its_reads_gets_a_sparse_collection_object_by_object(cluster):
    """A node's one Namespace is read with a GET, not a LIST of every Namespace; a collection it
    reads more than GET_AT_MOST objects of is still listed once; a forgotten object is read again."""
    sim, client = cluster
    many = [_configmap(NAMESPACES[1], f"cm-{i}") for i in range(GET_AT_MOST + 1)]
    reads = [_namespace(NAMESPACES[0]), *many]
    index = LiveIndex(client, reads=reads)
    sim.requests.clear()
    assert index.get(_namespace(NAMESPACES[0]))["metadata"]["name"] == NAMESPACES[0]
    assert index.get(_namespace(NAMESPACES[0]))["metadata"]["name"] == NAMESPACES[0]  # cached
    assert all(index.get(obj) is None for obj in reads[1:])
    one = ("get", f"/api/v1/namespaces/{NAMESPACES[0]}")
    assert [(e.verb, e.path) for e in sim.requests.entries()] == [
        one, ("list", f"/api/v1/namespaces/{NAMESPACES[1]}/configmaps")]
    index.forget(_namespace(NAMESPACES[0]))
    sim.requests.clear()
    index.get(_namespace(NAMESPACES[0]))
    assert [(e.verb, e.path) for e in sim.requests.entries()] == [one]
