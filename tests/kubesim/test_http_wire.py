"""Wire-level behaviour over real HTTPS: keep-alive, chunked watches, paging, subresources, Status errors."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

pytestmark = pytest.mark.integration

APPLY = {"Content-Type": "application/apply-patch+yaml"}


def _cm(namespace: str, name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {"k": name},
    }


def _deployment(namespace: str, name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
            },
        },
    }


def _watch_lines(client: Any, path: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    conn = client.connection()
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {client.sim.token}"})
        response = conn.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return headers, [json.loads(line) for line in response.read().splitlines() if line]
    finally:
        conn.close()


def test_keep_alive_reuses_one_connection(client):
    conn = client.connection()
    try:
        assert client.send(conn, "GET", "/version")[0] == 200
        first = conn.sock
        assert client.send(conn, "GET", "/api/v1/namespaces/default")[0] == 200
        assert conn.sock is first
    finally:
        conn.close()


def test_watch_is_chunked_and_ends_at_timeout(client, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    status, _, _ = client.request("POST", base, body=_cm(namespace, "w1"))
    assert status == 201
    started = time.monotonic()
    headers, events = _watch_lines(client, f"{base}?watch=true&timeoutSeconds=1")
    assert time.monotonic() - started >= 1.0
    assert headers["transfer-encoding"] == "chunked" and headers["content-type"] == "application/json"
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "w1")]
    assert events[0]["object"]["kind"] == "ConfigMap" and events[0]["object"]["apiVersion"] == "v1"


def test_watch_initial_events_end_with_a_bookmark(client, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    client.request("POST", base, body=_cm(namespace, "a"))
    _, events = _watch_lines(
        client,
        f"{base}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true"
        "&resourceVersionMatch=NotOlderThan&timeoutSeconds=1",
    )
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    bookmark = events[1]["object"]
    assert bookmark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert set(bookmark) == {"kind", "apiVersion", "metadata"}


def test_watch_from_a_compacted_version_sends_410(client, namespace, sim):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    _, _, created = client.request("POST", base, body=_cm(namespace, "old"))
    sim.cluster.store.compact()
    rv = created["metadata"]["resourceVersion"]
    _, events = _watch_lines(client, f"{base}?watch=true&resourceVersion={int(rv) - 1}&timeoutSeconds=1")
    [error] = events
    assert error["type"] == "ERROR"
    assert (error["object"]["code"], error["object"]["reason"]) == (410, "Expired")
    assert error["object"]["message"].startswith("too old resource version")


def test_list_paging_and_selectors(client, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for name in ("a", "b", "c"):
        client.request("POST", base, body=_cm(namespace, name, tier="x" if name != "b" else "y"))
    _, _, first = client.request("GET", f"{base}?limit=2")
    assert [i["metadata"]["name"] for i in first["items"]] == ["a", "b"]
    assert first["metadata"]["remainingItemCount"] == 1
    assert {(i["apiVersion"], i["kind"]) for i in first["items"]} == {("v1", "ConfigMap")}
    _, _, rest = client.request("GET", f"{base}?limit=2&continue={first['metadata']['continue']}")
    assert [i["metadata"]["name"] for i in rest["items"]] == ["c"]
    assert "continue" not in rest["metadata"]
    assert rest["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    _, _, selected = client.request("GET", f"{base}?labelSelector=tier%3Dx")
    assert [i["metadata"]["name"] for i in selected["items"]] == ["a", "c"]
    _, _, everywhere = client.request(
        "GET", f"/api/v1/configmaps?fieldSelector=metadata.namespace%3D{namespace}"
    )
    assert len(everywhere["items"]) == 3
    _, _, collection = client.request("DELETE", f"{base}?labelSelector=tier%3Dx")
    assert [i["metadata"]["name"] for i in collection["items"]] == ["a", "c"]
    _, _, left = client.request("GET", base)
    assert [i["metadata"]["name"] for i in left["items"]] == ["b"]


def test_apply_accepts_a_yaml_body(client, namespace):
    body = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n  namespace: {namespace}\ndata:\n  k: v\n"
    status, _, obj = client.request(
        "PATCH", f"/api/v1/namespaces/{namespace}/configmaps/y?fieldManager=yaml", body=body, headers=APPLY
    )
    assert (status, obj["data"]) == (201, {"k": "v"})


@pytest.mark.parametrize(
    ("content_type", "patch", "expected"),
    [
        ("application/merge-patch+json", {"data": {"k": None, "n": "1"}}, {"n": "1"}),
        (
            "application/json-patch+json",
            [{"op": "add", "path": "/data/n", "value": "1"}],
            {"k": "p", "n": "1"},
        ),
        ("application/strategic-merge-patch+json", {"data": {"n": "1"}}, {"k": "p", "n": "1"}),
    ],
)
def test_non_apply_patch_types(client, namespace, content_type, patch, expected):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    client.request("POST", base, body=_cm(namespace, "p"))
    status, _, obj = client.request(
        "PATCH", f"{base}/p", body=json.dumps(patch), headers={"Content-Type": content_type}
    )
    assert (status, obj["data"]) == (200, expected)
    updates = [(m["manager"], m["operation"]) for m in obj["metadata"]["managedFields"]]
    assert ("kubesim-tests", "Update") in updates  # the default manager comes from the User-Agent


def test_status_and_scale_subresources(client, namespace):
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    _, _, created = client.request("POST", base, body=_deployment(namespace))
    live = dict(created, status={"replicas": 1, "observedGeneration": 1})
    del live["metadata"]["resourceVersion"]  # the simulated controller may have written status meanwhile
    status, _, updated = client.request("PUT", f"{base}/web/status", body=live)
    assert status == 200 and updated["status"]["observedGeneration"] == 1
    assert updated["metadata"]["generation"] == 1
    _, _, scale = client.request("GET", f"{base}/web/scale")
    assert (scale["kind"], scale["spec"]["replicas"], scale["status"]["selector"]) == ("Scale", 1, "app=web")
    status, _, scaled = client.request(
        "PATCH",
        f"{base}/web/scale",
        body=json.dumps({"spec": {"replicas": 3}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert (status, scaled["spec"]["replicas"]) == (200, 3)
    _, _, after = client.request("GET", f"{base}/web")
    assert after["spec"]["replicas"] == 3 and after["metadata"]["generation"] == 2


def test_table_for_a_single_get(client, namespace):
    client.request("POST", f"/api/v1/namespaces/{namespace}/configmaps", body=_cm(namespace, "t"))
    _, _, table = client.request(
        "GET",
        f"/api/v1/namespaces/{namespace}/configmaps/t",
        headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
    )
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    assert table["rows"][0]["cells"][0] == "t"
    assert table["rows"][0]["object"]["metadata"]["name"] == "t"


def test_field_validation_warn_sends_a_warning(client, namespace):
    body = dict(_cm(namespace, "warned"), extra=1)
    status, headers, obj = client.request(
        "POST", f"/api/v1/namespaces/{namespace}/configmaps?fieldValidation=Warn", body=body
    )
    assert status == 201 and "extra" not in obj
    assert headers["warning"] == '299 - "unknown field \\"extra\\""'


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "code", "reason", "message"),
    [
        (
            "GET",
            "/api/v1/namespaces/{ns}/configmaps/nope",
            None,
            {},
            404,
            "NotFound",
            'configmaps "nope" not found',
        ),
        (
            "GET",
            "/apis/nothing.example.com/v1/things",
            None,
            {},
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
        (
            "POST",
            "/api/v1/namespaces/missing-ns-x/configmaps",
            "cm-elsewhere",
            {},
            404,
            "NotFound",
            'namespaces "missing-ns-x" not found',
        ),
        (
            "PATCH",
            "/api/v1/namespaces/{ns}/configmaps/e",
            "{}",
            {"Content-Type": "text/plain"},
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format",
        ),
        (
            "POST",
            "/api/v1/namespaces/{ns}/configmaps?dryRun=Maybe",
            "cm",
            {},
            422,
            "Invalid",
            'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Maybe"]: '
            'supported values: "All"',
        ),
        (
            "PATCH",
            "/api/v1/namespaces/{ns}/configmaps/e",
            "apply",
            APPLY,
            400,
            "BadRequest",
            "PATCH, application/apply-patch+yaml requires fieldManager to be set",
        ),
        (
            "PATCH",
            "/api/v1/namespaces/{ns}/configmaps/e?fieldValidation=Loose&fieldManager=m",
            "apply",
            APPLY,
            400,
            "BadRequest",
            "fieldValidation parameter unsupported: Loose",
        ),
        (
            "PATCH",
            "/api/v1/namespaces/{ns}/configmaps/e?force=true",
            "{}",
            {"Content-Type": "application/merge-patch+json"},
            422,
            "Invalid",
            'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply '
            "patch",
        ),
        (
            "PUT",
            "/api/v1/namespaces/{ns}/configmaps",
            "cm",
            {},
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ),
    ],
)
def test_errors_are_status_bodies(client, namespace, method, path, body, headers, code, reason, message):
    payload: Any = {
        "cm": _cm(namespace, "e"),
        "apply": json.dumps(_cm(namespace, "e")),
        "cm-elsewhere": _cm("missing-ns-x", "e"),
    }.get(body, body)
    status, _, status_body = client.request(method, path.format(ns=namespace), body=payload, headers=headers)
    assert (status, status_body["kind"], status_body["status"]) == (code, "Status", "Failure")
    assert (status_body["code"], status_body["reason"]) == (code, reason)
    assert status_body["message"].startswith(message)


def test_stale_resource_version_put_conflicts(client, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    _, _, created = client.request("POST", base, body=_cm(namespace, "rv"))
    client.request("PUT", f"{base}/rv", body=dict(created, data={"k": "new"}))
    status, _, body = client.request("PUT", f"{base}/rv", body=dict(created, data={"k": "stale"}))
    assert (status, body["reason"]) == (409, "Conflict")
    assert body["message"] == (
        'Operation cannot be fulfilled on configmaps "rv": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_stale_resource_version_in_an_apply_body_conflicts(client, namespace):
    """As kube-apiserver: metadata.resourceVersion in a server-side apply body is a precondition;
    the current version (or none) applies."""
    path = f"/api/v1/namespaces/{namespace}/configmaps/applied?fieldManager=test"
    apply = {"Content-Type": "application/apply-patch+yaml"}
    _, _, first = client.request("PATCH", path, body=json.dumps(_cm(namespace, "applied")), headers=apply)
    version = first["metadata"]["resourceVersion"]
    current = dict(_cm(namespace, "applied"), data={"k": "current"})
    current["metadata"] = dict(current["metadata"], resourceVersion=version)
    status, _, second = client.request("PATCH", path, body=json.dumps(current), headers=apply)
    assert status == 200 and second["data"] == {"k": "current"}
    stale = dict(current, data={"k": "stale"})
    status, _, body = client.request("PATCH", path, body=json.dumps(stale), headers=apply)
    assert (status, body["reason"]) == (409, "Conflict")
    assert "the object has been modified" in body["message"]
    assert client.request("GET", path.split("?")[0])[2]["data"] == {"k": "current"}


def test_service_put_without_allocated_values_keeps_them(client, namespace):
    """As kube-apiserver's patchAllocatedValues: a PUT that leaves out a Service's cluster IP and node
    port (a manifest replaced as written) keeps what was allocated instead of reallocating."""
    base = f"/api/v1/namespaces/{namespace}/services"
    manifest = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": namespace},
                "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    _, _, created = client.request("POST", base, body=manifest)
    allocated = created["spec"]["clusterIP"], created["spec"]["ports"][0]["nodePort"]
    status, _, replaced = client.request("PUT", f"{base}/web", body=manifest)
    assert status == 200
    assert (replaced["spec"]["clusterIP"], replaced["spec"]["ports"][0]["nodePort"]) == allocated
    assert replaced["spec"]["clusterIPs"] == [allocated[0]]


def test_dry_run_writes_nothing_on_every_verb(client, namespace, sim):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    _, _, created = client.request("POST", base, body=_cm(namespace, "keep"))
    before = sim.cluster.store.resource_version
    assert client.request("POST", f"{base}?dryRun=All", body=_cm(namespace, "ghost"))[0] == 201
    assert client.request("PUT", f"{base}/keep?dryRun=All", body=dict(created, data={"k": "x"}))[0] == 200
    assert (
        client.request(
            "PATCH",
            f"{base}/keep?dryRun=All",
            body='{"data":{"k":"y"}}',
            headers={"Content-Type": "application/merge-patch+json"},
        )[0]
        == 200
    )
    assert client.request("DELETE", f"{base}/keep?dryRun=All")[0] == 200
    assert sim.cluster.store.resource_version == before
    assert client.request("GET", f"{base}/ghost")[0] == 404
    assert client.request("GET", f"{base}/keep")[2]["data"] == {"k": "keep"}
