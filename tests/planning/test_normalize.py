"""Object identity, Flux inventory ids and the normalization before comparing objects."""

from __future__ import annotations

import base64
import copy

import pytest

from fluxpush.flux.model import ObjectRef
from fluxpush.planning.normalize import (
    RECONCILE_KEY,
    ObjectId,
    has_setting,
    normalize_object,
    object_id,
)


def deployment(**meta):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps", **meta},
        "spec": {"template": {"spec": {"containers": [{"name": "web", "ports": [{"containerPort": 80}]}]}}},
    }


def test_object_id_of_namespaced_and_cluster_scoped_objects():
    assert object_id(deployment()) == ObjectId("apps", "Deployment", "apps", "web")
    assert str(object_id(deployment())) == "Deployment/apps/web"
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}
    assert object_id(namespace) == ObjectId("", "Namespace", "", "apps")
    assert str(object_id(namespace)) == "Namespace/apps"


@pytest.mark.parametrize(("oid", "text"), [
    # Examples in flux-semantics §5.1: core group empty, cluster-scoped objects start with `_`.
    (ObjectId("", "Service", "default", "podinfo"), "default_podinfo__Service"),
    (ObjectId("", "Namespace", "", "cert-manager"), "_cert-manager__Namespace"),
    (ObjectId("apps", "Deployment", "apps", "web"), "apps_web_apps_Deployment"),
    (ObjectId("apiextensions.k8s.io", "CustomResourceDefinition", "", "certificates.cert-manager.io"),
     "_certificates.cert-manager.io_apiextensions.k8s.io_CustomResourceDefinition"),
    # RBAC names may hold ':', which Flux encodes as '__'.
    (ObjectId("rbac.authorization.k8s.io", "ClusterRole", "", "system:controller:x"),
     "_system__controller__x_rbac.authorization.k8s.io_ClusterRole"),
])
def test_inventory_id_matches_flux_and_parses_back(oid, text):
    assert oid.inventory_id == text
    assert ObjectId.from_inventory_id(text) == oid


@pytest.mark.parametrize("text", ["", "nounderscores", "ns_name_Kind", "ns_na_me_apps_Deployment"])
def test_malformed_inventory_ids_are_refused(text):
    with pytest.raises(ValueError, match="inventory id"):
        ObjectId.from_inventory_id(text)


def test_normalize_drops_server_metadata_status_and_last_applied():
    live = deployment(
        uid="u-1", resourceVersion="42", generation=3, creationTimestamp="2026-01-01T00:00:00Z",
        selfLink="/x", managedFields=[{"manager": "kubectl"}],
        annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        labels={"app": "web"},
    )
    live["status"] = {"replicas": 1}
    out = normalize_object(live)
    assert out["metadata"] == {"name": "web", "namespace": "apps", "labels": {"app": "web"}}
    assert "status" not in out


def test_normalize_does_not_touch_its_input():
    live = deployment(uid="u-1")
    before = copy.deepcopy(live)
    normalize_object(live)
    assert live == before


def test_normalize_defaults_container_and_service_port_protocols():
    out = normalize_object(deployment())
    ports = out["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert ports == [{"containerPort": 80, "protocol": "TCP"}]
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
               "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                   "containers": [{"name": "c", "ports": [{"containerPort": 9, "protocol": "UDP"}]}]}}}}}}
    pod_spec = normalize_object(cronjob)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    ports = pod_spec["containers"][0]["ports"]
    assert ports == [{"containerPort": 9, "protocol": "UDP"}]  # an explicit protocol stays
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
               "spec": {"ports": [{"port": 80}]}}
    assert normalize_object(service)["spec"]["ports"] == [{"port": 80, "protocol": "TCP"}]
    custom = {"apiVersion": "example.com/v1", "kind": "Service", "metadata": {"name": "s"},
              "spec": {"ports": [{"port": 80}]}}
    assert normalize_object(custom)["spec"]["ports"] == [{"port": 80}]  # only core v1 Services


def test_normalize_folds_secret_string_data_into_data():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
              "data": {"a": base64.b64encode(b"old").decode(), "b": "Yg=="}, "stringData": {"a": "new"}}
    out = normalize_object(secret)
    assert "stringData" not in out
    assert out["data"] == {"a": base64.b64encode(b"new").decode(), "b": "Yg=="}


@pytest.mark.parametrize(("meta", "expected"), [
    ({"annotations": {RECONCILE_KEY: "disabled"}}, True),
    ({"labels": {RECONCILE_KEY: "Disabled"}}, True),  # values compare case-insensitively
    ({"annotations": {RECONCILE_KEY: "enabled"}}, False),
    ({}, False),
])
def test_has_setting_reads_labels_and_annotations(meta, expected):
    assert has_setting(deployment(**meta), RECONCILE_KEY, "disabled") is expected
    assert has_setting(None, RECONCILE_KEY, "disabled") is False


def test_an_object_id_names_its_object_ref_without_the_group():
    oid = ObjectId("networking.k8s.io", "Ingress", "apps", "web")
    assert oid.ref == ObjectRef("Ingress", "apps", "web")
    assert str(oid.ref) == str(oid) == "Ingress/apps/web"
    assert ObjectId("", "Namespace", "", "apps").ref == ObjectRef("Namespace", "", "apps")
