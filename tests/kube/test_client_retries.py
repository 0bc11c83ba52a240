"""Retries against kubesim's injected faults: what is retried, how often, how long, and what is not."""

from __future__ import annotations

import time
import uuid

import pytest

from fluxpush.errors import ClusterError
from fluxpush.kube import KubeClient, RetryPolicy, connect_sandbox
from fluxpush.kube.transport import Call, Transport
from kube.conftest import clear_log, logged

pytestmark = pytest.mark.integration

FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)


@pytest.fixture
def kube(sim):
    with KubeClient(connect_sandbox(sim), retry=FAST) as client:
        client.list("v1", "Namespace")  # warm discovery so the logs below hold only the calls under test
        clear_log(sim)
        yield client


def statuses(sim, verb: str, expected: int) -> list[int]:
    """HTTP statuses (0: dropped) of the logged requests with `verb`."""
    return [r.status for r in logged(sim, expected, verb)]


def test_429_waits_for_retry_after(kube, sim):
    sim.faults.inject("429", count=1, verb="list", retry_after=1)
    started = time.monotonic()
    kube.list("v1", "Namespace")
    assert time.monotonic() - started >= 1.0, "Retry-After: 1 is honoured, not the 10 ms backoff"
    assert statuses(sim, "list", 2) == [429, 200]


@pytest.mark.parametrize("fault", ["500", "503", "504"])
def test_server_errors_are_retried(kube, sim, fault):
    sim.faults.inject(fault, count=2, verb="list", retry_after=0)
    assert kube.list("v1", "Namespace")
    assert statuses(sim, "list", 3) == [int(fault), int(fault), 200]


def test_dropped_connection_is_retried(kube, sim):
    sim.faults.inject("drop", count=1, verb="get")
    assert kube.get("v1", "Namespace", "default")["metadata"]["name"] == "default"
    # a dropped request still reaches the log (status 0); the retry then succeeds
    assert statuses(sim, "get", 2) == [0, 200]


def test_server_side_apply_is_retried(kube, sim):
    sim.faults.inject("503", count=1, verb="patch", retry_after=0)
    name = f"retried-{uuid.uuid4().hex[:6]}"
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}}
    assert kube.apply(obj, "fluxpush")["metadata"]["name"] == name
    assert statuses(sim, "patch", 2) == [503, 201]


def test_post_is_never_retried(sim):
    transport = Transport(connect_sandbox(sim), retry=FAST)
    sim.faults.inject("503", count=1, verb="create", retry_after=0)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"post-{uuid.uuid4().hex[:6]}"}}
    with pytest.raises(ClusterError) as caught:
        transport.json(Call("POST", "/api/v1/namespaces/default/configmaps", body=body, verb="create"))
    assert caught.value.status == 503
    assert statuses(sim, "create", 1) == [503]
    assert transport.request_count == 1
    transport.close()


def test_retries_stop_after_max_attempts(sim):
    policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
    with KubeClient(connect_sandbox(sim), retry=policy) as client:
        client.list("v1", "Namespace")
        clear_log(sim)
        sim.faults.inject("503", count=10, verb="list", retry_after=0)
        with pytest.raises(ClusterError) as caught:
            client.list("v1", "Namespace")
    assert caught.value.status == 503
    assert statuses(sim, "list", 3) == [503, 503, 503]


def test_retries_stop_when_the_wait_budget_is_spent(sim):
    policy = RetryPolicy(max_attempts=10, max_total_wait=1.5)
    with KubeClient(connect_sandbox(sim), retry=policy) as client:
        client.list("v1", "Namespace")
        clear_log(sim)
        sim.faults.inject("429", count=10, verb="list", retry_after=1)
        started = time.monotonic()
        with pytest.raises(ClusterError) as caught:
            client.list("v1", "Namespace")
    assert caught.value.status == 429
    assert statuses(sim, "list", 2) == [429, 429], "a second 1 s wait would pass the 1.5 s budget"
    assert time.monotonic() - started < 1.5


def test_undeclared_field_500_is_the_users_error_and_not_retried(kube, sim):
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "typo", "namespace": "default"},
        "spec": {"data": {}},
    }
    before = kube.request_count
    with pytest.raises(ClusterError) as caught:
        kube.apply(obj, "fluxpush")
    assert kube.request_count - before == 1
    error = caught.value
    assert error.status == 500 and error.is_user_error
    assert "does not declare" in error.message and ".spec" in error.message
    assert error.obj == "ConfigMap/default/typo"
    assert statuses(sim, "patch", 1) == [500]
