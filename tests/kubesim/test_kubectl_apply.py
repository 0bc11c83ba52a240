"""Server-side apply through real kubectl (cluster.md §6.5 scenarios 1-8), with every kubectl found.

Expected texts are kubectl's and kube-apiserver's own (conflict message, `field is immutable`).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.integration


def configmap(namespace: str, data: dict[str, str], name: str = "demo", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": "demo"}},
        "data": data,
    }


def deployment(
    namespace: str, containers: list[dict[str, Any]], name: str = "web", app: str = "web"
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": containers}},
        },
    }


def managers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """manager name → its fieldsV1, for the Apply entries."""
    return {
        e["manager"]: e["fieldsV1"] for e in obj["metadata"]["managedFields"] if e["operation"] == "Apply"
    }


def test_create_records_kubectl_apply_entry(kubectl, namespace, sim):
    result = kubectl.apply(configmap(namespace, {"a": "1"}))
    assert result.stdout.strip() == "configmap/demo serverside-applied"
    live = kubectl.get("configmap", "demo", "-n", namespace, "--show-managed-fields")
    [entry] = live["metadata"]["managedFields"]
    assert {k: v for k, v in entry.items() if k != "time"} == {
        "apiVersion": "v1",
        "fieldsType": "FieldsV1",
        "manager": "kubectl",
        "operation": "Apply",
        "fieldsV1": {"f:data": {"f:a": {}}, "f:metadata": {"f:labels": {"f:app": {}}}},
    }
    patches = [
        r
        for r in sim.requests.entries()
        if r.verb == "patch" and r.path == f"/api/v1/namespaces/{namespace}/configmaps/demo"
    ]
    assert [p.status for p in patches] == [201]  # create-on-apply answers 201
    assert patches[0].query["fieldManager"] == "kubectl"


def test_show_managed_fields_yaml_lists_the_fields(kubectl, namespace):
    kubectl.apply(configmap(namespace, {"a": "1"}))
    text = kubectl.run("get", "cm", "demo", "-n", namespace, "-o", "yaml", "--show-managed-fields").stdout
    assert "manager: kubectl" in text and "operation: Apply" in text and "f:a: {}" in text
    hidden = kubectl.run("get", "cm", "demo", "-n", namespace, "-o", "yaml").stdout
    assert "managedFields" not in hidden


def test_unchanged_reapply_keeps_resource_version(kubectl, namespace):
    manifest = configmap(namespace, {"a": "1"})
    kubectl.apply(manifest)
    before = kubectl.get("cm", "demo", "-n", namespace)["metadata"]["resourceVersion"]
    kubectl.apply(manifest)
    after = kubectl.get("cm", "demo", "-n", namespace)["metadata"]["resourceVersion"]
    assert after == before


def test_removed_field_disappears_unless_shared(kubectl, namespace):
    kubectl.apply(configmap(namespace, {"a": "1", "b": "2"}))
    kubectl.apply(configmap(namespace, {"a": "1"}))
    assert kubectl.get("cm", "demo", "-n", namespace)["data"] == {"a": "1"}
    # A second manager applying the same value co-owns it: kubectl dropping it keeps it.
    kubectl.apply(configmap(namespace, {"a": "1"}), "--field-manager=other")
    kubectl.apply(configmap(namespace, {"z": "9"}))
    assert kubectl.get("cm", "demo", "-n", namespace)["data"] == {"a": "1", "z": "9"}
    # …and it goes once the last owner drops it too.
    kubectl.apply(configmap(namespace, {}), "--field-manager=other")
    assert kubectl.get("cm", "demo", "-n", namespace)["data"] == {"z": "9"}


def test_dropped_list_items_go_whole(kubectl, namespace):
    web = {"name": "web", "image": "nginx:1.27"}
    kubectl.apply(deployment(namespace, [web, {"name": "sidecar", "image": "envoy:1"}]))
    kubectl.apply(deployment(namespace, [web]))  # sidecar's defaulted fields must not linger
    live = kubectl.get("deploy", "web", "-n", namespace)
    assert [c["name"] for c in live["spec"]["template"]["spec"]["containers"]] == ["web"]
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": namespace},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    kubectl.apply(service)
    kubectl.apply({**service, "spec": {"selector": {"app": "web"}, "ports": [{"port": 8080}]}})
    ports = kubectl.get("svc", "svc", "-n", namespace)["spec"]["ports"]
    assert [(p["port"], p["protocol"], p["targetPort"]) for p in ports] == [(8080, "TCP", 8080)]


def test_conflict_then_force_moves_ownership(kubectl, namespace):
    kubectl.apply(configmap(namespace, {"a": "1"}))
    failed = kubectl.apply(configmap(namespace, {"a": "2"}), "--field-manager=other", check=False)
    assert failed.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl" using v1: .data.a' in failed.stderr
    assert "--force-conflicts" in failed.stderr  # kubectl's remedies follow the server's message
    assert kubectl.get("cm", "demo", "-n", namespace)["data"] == {"a": "1"}

    kubectl.apply(configmap(namespace, {"a": "2"}), "--field-manager=other", "--force-conflicts")
    live = kubectl.get("cm", "demo", "-n", namespace, "--show-managed-fields")
    assert live["data"] == {"a": "2"}
    owners = managers(live)
    assert owners["other"]["f:data"] == {"f:a": {}}
    assert "f:data" not in owners["kubectl"]  # kubectl keeps only its labels


def test_containers_and_env_merge_by_key(kubectl, namespace):
    web = {"name": "web", "image": "nginx:1.27", "env": [{"name": "A", "value": "1"}]}
    kubectl.apply(deployment(namespace, [web]))
    sidecar = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "sidecar", "image": "busybox:1.36"},
                        {"name": "web", "env": [{"name": "B", "value": "2"}]},
                    ]
                }
            }
        },
    }
    kubectl.apply(sidecar, "--field-manager=other")
    live = kubectl.get("deploy", "web", "-n", namespace, "--show-managed-fields")
    containers = {c["name"]: c for c in live["spec"]["template"]["spec"]["containers"]}
    assert set(containers) == {"web", "sidecar"}
    assert containers["web"]["image"] == "nginx:1.27"
    assert [e["name"] for e in containers["web"]["env"]] == ["A", "B"]
    owned = managers(live)
    other_containers = owned["other"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert set(other_containers) == {'k:{"name":"sidecar"}', 'k:{"name":"web"}'}
    assert set(other_containers['k:{"name":"web"}']["f:env"]) == {'k:{"name":"B"}'}
    mine = owned["kubectl"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert set(mine["f:env"]) == {'k:{"name":"A"}'}

    kubectl.apply(deployment(namespace, [web]))  # re-applying kubectl's own config clobbers nothing
    again = kubectl.get("deploy", "web", "-n", namespace)
    assert len(again["spec"]["template"]["spec"]["containers"]) == 2


def test_diff_server_side_exit_codes(kubectl, namespace):
    kubectl.apply(configmap(namespace, {"a": "1"}))
    same = kubectl.run(
        "diff", "--server-side", "-f", "-", stdin=_yaml(configmap(namespace, {"a": "1"})), check=False
    )
    assert (same.returncode, same.stdout) == (0, "")
    changed = kubectl.run(
        "diff", "--server-side", "-f", "-", stdin=_yaml(configmap(namespace, {"a": "2"})), check=False
    )
    assert changed.returncode == 1, changed.stderr
    assert '-  a: "1"' in changed.stdout and '+  a: "2"' in changed.stdout
    assert kubectl.get("cm", "demo", "-n", namespace)["data"] == {"a": "1"}  # diff is a dry run


def test_unknown_field_fails_strict_validation(kubectl, namespace):
    manifest = configmap(namespace, {"a": "1"})
    manifest["spec"] = {"oops": True}
    failed = kubectl.apply(manifest, check=False)
    assert failed.returncode != 0
    assert ".spec" in failed.stderr and "field not declared in schema" in failed.stderr
    gone = kubectl.run("get", "cm", "demo", "-n", namespace, check=False)
    assert gone.returncode == 1 and "NotFound" in gone.stderr


def test_dry_run_server_stores_nothing(kubectl, namespace):
    created = kubectl.apply(configmap(namespace, {"a": "1"}), "--dry-run=server")
    assert "(server dry run)" in created.stdout
    assert kubectl.run("get", "cm", "demo", "-n", namespace, check=False).returncode == 1
    kubectl.apply(configmap(namespace, {"a": "1"}))
    before = kubectl.get("cm", "demo", "-n", namespace)
    kubectl.apply(configmap(namespace, {"a": "2"}), "--dry-run=server")
    after = kubectl.get("cm", "demo", "-n", namespace)
    assert after["data"] == {"a": "1"}
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_immutable_selector_change_is_rejected(kubectl, namespace):
    web = [{"name": "web", "image": "nginx:1.27"}]
    kubectl.apply(deployment(namespace, web, app="web"))
    failed = kubectl.apply(deployment(namespace, web, app="other"), check=False)
    assert failed.returncode == 1
    assert 'The Deployment "web" is invalid: spec.selector: Invalid value:' in failed.stderr
    assert "field is immutable" in failed.stderr


def _yaml(manifest: dict[str, Any]) -> str:
    return yaml.safe_dump(manifest)
