"""Injected faults (429/5xx/drop), latency, the request log, and the clients' reactions to them."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from collections.abc import Iterator

import pytest

from kubesim import KubeSim, Options

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def no_leftover_faults(sim) -> Iterator[None]:
    yield
    sim.faults.clear()


def _cm(namespace: str, name: str = "f") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"a": "1"},
    }


def test_kubectl_waits_retry_after_on_429(pinned_kubectl, namespace, sim):
    kubectl = pinned_kubectl
    kubectl.apply(_cm(namespace))
    path = f"/api/v1/namespaces/{namespace}/configmaps/f"
    sim.faults.inject("429", verb="GET", path=path, retry_after=1)
    started = time.monotonic()
    assert kubectl.get("cm", "f", "-n", namespace)["data"] == {"a": "1"}
    assert time.monotonic() - started >= 1.0  # client-go slept the Retry-After
    assert [r.status for r in sim.requests.entries() if r.path == path and r.verb == "get"][-2:] == [429, 200]


@pytest.mark.parametrize(
    ("action", "code", "reason"),
    [
        ("429", 429, "TooManyRequests"),
        ("500", 500, "InternalError"),
        ("503", 503, "ServiceUnavailable"),
        ("504", 504, "Timeout"),
    ],
)
def test_injected_status_then_recovery(client, namespace, sim, action, code, reason):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    sim.faults.inject(action, count=2, verb="LIST", path=path, retry_after=3)
    for _ in range(2):
        status, headers, body = client.request("GET", path)
        assert (status, body["kind"], body["reason"], body["code"]) == (code, "Status", reason, code)
        if action in ("429", "503"):
            assert headers["retry-after"] == "3"
    assert client.request("GET", path)[0] == 200
    assert client.request("GET", f"/api/v1/namespaces/{namespace}/secrets")[0] == 200  # other paths untouched


def test_fault_matches_verb_only(client, namespace, sim):
    sim.faults.inject("500", verb="create")
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    assert client.request("GET", path)[0] == 200
    assert client.request("POST", path, body=_cm(namespace))[0] == 500
    assert client.request("POST", path, body=_cm(namespace))[0] == 201


def test_drop_closes_without_answer(client, namespace, sim):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    sim.faults.inject("drop", path=path)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        client.request("GET", path)
    assert client.request("GET", path)[0] == 200
    assert [r.status for r in sim.requests.entries() if r.path == path][-2:] == [0, 200]  # 0: no answer


def test_kubectl_reports_401_after_expiry(kubectl_binary, tmp_path):
    with KubeSim(Options(controllers=False)) as own:
        config = own.write_kubeconfig(tmp_path / "kc")
        argv = [
            str(kubectl_binary),
            "--kubeconfig",
            str(config),
            "--cache-dir",
            str(tmp_path / "c"),
            "get",
            "ns",
            "default",
            "-o",
            "name",
        ]
        assert subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False).returncode == 0
        own.faults.expire_tokens()
        denied = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert denied.returncode == 1
        assert "You must be logged in to the server" in denied.stderr
        own.write_kubeconfig(config)  # the rotated static token
        assert subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False).returncode == 0


def test_latency_and_request_log(client, sim):
    sim.requests.clear()
    sim.faults.latency(150, jitter_ms=50)
    started = time.monotonic()
    client.request("GET", "/version")
    assert time.monotonic() - started >= 0.15
    sim.faults.latency(0)
    client.request("GET", "/api/v1/namespaces/default/configmaps")
    [version, listed] = sim.requests.entries()
    assert (version.method, version.path, version.verb, version.status) == ("GET", "/version", "get", 200)
    assert version.duration_ms >= 150 and version.user_agent == "kubesim-tests/1.0 (python)"
    assert (listed.verb, listed.status) == ("list", 200)
    assert sim.requests.counts() == {"get": 1, "list": 1}
    sim.requests.clear()
    assert sim.requests.counts() == {}


def test_request_log_file_has_json_lines(tmp_path, client_for):
    log = tmp_path / "requests.jsonl"
    with KubeSim(Options(controllers=False), request_log=log) as own:
        client_for(own).request("GET", "/api/v1/namespaces/default/configmaps?limit=1")
    [line] = log.read_text(encoding="utf-8").splitlines()
    entry = json.loads(line)
    assert (entry["method"], entry["path"], entry["query"], entry["verb"], entry["status"]) == (
        "GET",
        "/api/v1/namespaces/default/configmaps",
        {"limit": "1"},
        "list",
        200,
    )


def test_unknown_fault_action_is_refused(sim):
    with pytest.raises(ValueError, match="unknown fault"):
        sim.faults.inject("418")
