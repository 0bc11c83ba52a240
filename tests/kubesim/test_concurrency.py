"""Several clients writing at once: one thread per connection, one global resourceVersion counter."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator

import pytest

pytestmark = pytest.mark.integration

THREADS = 6
WRITES = 5


def test_concurrent_applies_get_unique_increasing_versions(client, namespace):
    versions: dict[int, list[int]] = {}
    errors: list[str] = []
    barrier = threading.Barrier(THREADS)

    def writer(index: int) -> None:
        conn = client.connection()
        mine: list[int] = []
        try:
            barrier.wait(10)
            for step in range(WRITES):
                body = {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"c{index}", "namespace": namespace},
                    "data": {"step": str(step)},
                }
                status, _, obj = client.send(
                    conn,
                    "PATCH",
                    f"/api/v1/namespaces/{namespace}/configmaps/c{index}?fieldManager=w{index}",
                    body=json.dumps(body),
                    headers={"Content-Type": "application/apply-patch+yaml"},
                )
                if status not in (200, 201):
                    errors.append(f"{status}: {obj}")
                    return
                mine.append(int(obj["metadata"]["resourceVersion"]))
        finally:
            conn.close()
            versions[index] = mine

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    every = [rv for mine in versions.values() for rv in mine]
    assert len(every) == THREADS * WRITES
    assert len(set(every)) == len(every)  # no two writes share a resourceVersion
    for mine in versions.values():
        assert mine == sorted(mine) and len(set(mine)) == len(mine)  # each client sees them increase
    _, _, listed = client.request("GET", f"/api/v1/namespaces/{namespace}/configmaps")
    assert {i["data"]["step"] for i in listed["items"]} == {str(WRITES - 1)}
    assert int(listed["metadata"]["resourceVersion"]) >= max(every)


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Switch threads as often as possible, so unlocked read-modify-writes would interleave."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def test_concurrent_patches_of_one_object_lose_nothing(client, namespace, frequent_thread_switches):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    client.request(
        "POST", base, body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}}
    )
    barrier = threading.Barrier(THREADS)

    def patcher(index: int) -> None:
        conn = client.connection()
        try:
            barrier.wait(10)
            for step in range(WRITES):
                patch = json.dumps({"data": {f"t{index}-{step}": "x"}})
                client.send(
                    conn,
                    "PATCH",
                    f"{base}/shared",
                    body=patch,
                    headers={"Content-Type": "application/merge-patch+json"},
                )
        finally:
            conn.close()

    threads = [threading.Thread(target=patcher, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    _, _, live = client.request("GET", f"{base}/shared")
    assert len(live["data"]) == THREADS * WRITES  # every read-modify-write saw the one before it
