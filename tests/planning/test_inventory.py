"""Flux inventory entries and the per-node store object."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from fluxpush.flux.model import ObjectRef
from fluxpush.planning.inventory import (
    INVENTORY_LABEL,
    INVENTORY_SELECTOR,
    MAX_NAME,
    NODE_NAME_LABEL,
    RECONCILIATION_SUCCEEDED,
    Condition,
    InventoryEntry,
    InventoryRecord,
    decode_inventory,
    encode_inventory,
    entries_from_objects,
    inventory_labels,
    inventory_name,
    ready_condition,
)
from fluxpush.planning.normalize import ObjectId

APPS = ObjectRef("Kustomization", "flux-system", "apps")
OBJECTS = [
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "apps"}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "apps"}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "apps"}},
]


def test_entries_are_flux_ids_with_versions_sorted_and_unique():
    entries = entries_from_objects(OBJECTS)
    assert [e.to_wire() for e in entries] == [
        {"id": "_apps__Namespace", "v": "v1"},
        {"id": "apps_web__Service", "v": "v1"},
        {"id": "apps_web_apps_Deployment", "v": "v1"},
    ]
    assert [InventoryEntry.from_wire(e.to_wire()) for e in entries] == list(entries)
    assert entries[2].api_version == "apps/v1" and entries[0].api_version == "v1"


def test_a_malformed_wire_entry_is_refused():
    with pytest.raises(ValueError, match="inventory id"):
        InventoryEntry.from_wire({"id": "nonsense", "v": "v1"})


def test_names_are_deterministic_and_short_names_readable():
    assert inventory_name(APPS) == "fluxpush-inventory-kustomization-apps"
    assert inventory_name(ObjectRef("HelmRelease", "apps", "redis")) == "fluxpush-inventory-helmrelease-redis"


def test_long_names_are_cut_and_hashed_to_stay_distinct():
    first = ObjectRef("Kustomization", "flux-system", "a" * 60 + "-one")
    second = ObjectRef("Kustomization", "flux-system", "a" * 60 + "-two")
    other_ns = ObjectRef("Kustomization", "team", "a" * 60 + "-one")
    names = {inventory_name(ref) for ref in (first, second, other_ns)}
    assert len(names) == 3
    assert all(len(name) <= MAX_NAME for name in names)
    assert all(name.startswith("fluxpush-inventory-kustomization-a") for name in names)
    assert inventory_name(first) == inventory_name(first)


def test_labels_let_get_list_them_and_name_the_node_when_they_can():
    labels = inventory_labels(APPS)
    assert f"{INVENTORY_LABEL}=true" == INVENTORY_SELECTOR
    assert labels[INVENTORY_LABEL] == "true"
    assert labels[NODE_NAME_LABEL] == "apps"
    long_ref = ObjectRef("Kustomization", "flux-system", "x" * 70)
    assert NODE_NAME_LABEL not in inventory_labels(long_ref)  # not a valid label value


def _record():
    at = datetime(2026, 12, 2, 5, 0, 0, tzinfo=UTC)
    return InventoryRecord(
        node=APPS, entries=entries_from_objects(OBJECTS),
        last_applied_revision="main@sha1:" + "a" * 40, last_attempted_revision="main@sha1:" + "b" * 40,
        conditions=(ready_condition(True, RECONCILIATION_SUCCEEDED, "Applied revision: main@sha1:aaa", at),),
        started_at="2026-12-02T04:59:50Z", finished_at="2026-12-02T05:00:00Z", duration_seconds=10.5,
        suspended=True)


@pytest.mark.parametrize("kind", ["ConfigMap", "Secret"])
def test_encode_decode_round_trip(kind):
    record = _record()
    obj = encode_inventory(record, kind=kind)
    assert obj["kind"] == kind
    assert obj["metadata"]["name"] == "fluxpush-inventory-kustomization-apps"
    assert obj["metadata"]["namespace"] == "flux-system"
    assert obj["metadata"]["labels"][INVENTORY_LABEL] == "true"
    assert decode_inventory(json.loads(json.dumps(obj))) == record


def test_configmap_payload_is_readable_and_holds_flux_entries():
    data = encode_inventory(_record())["data"]
    assert json.loads(data["entries"])[0] == {"id": "_apps__Namespace", "v": "v1"}
    assert data["suspend"] == "true"
    assert data["lastAppliedRevision"] == "main@sha1:" + "a" * 40
    assert all(isinstance(value, str) for value in data.values())  # ConfigMap data holds strings


def test_secret_payload_is_base64():
    data = encode_inventory(_record(), kind="Secret")["data"]
    assert base64.b64decode(data["suspend"]) == b"true"


def test_only_configmaps_and_secrets_store_inventories():
    with pytest.raises(ValueError, match="ConfigMap or a Secret"):
        encode_inventory(_record(), kind="Lease")


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("entries"),
    lambda d: d.update(format="0"),
    lambda d: d.update(entries="not json"),
    lambda d: d.update(entries='[{"id": "bad", "v": "v1"}]'),
])
def test_decode_refuses_malformed_payloads_naming_the_object(mutate):
    obj = encode_inventory(_record())
    mutate(obj["data"])
    with pytest.raises(ValueError, match="ConfigMap/flux-system/fluxpush-inventory-kustomization-apps"):
        decode_inventory(obj)


def test_ready_condition_states_and_utc_time():
    at = datetime(2026, 12, 2, 7, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert ready_condition(False, "HealthCheckFailed", "timeout", at) == Condition(
        "Ready", "False", "HealthCheckFailed", "timeout", "2026-12-02T05:00:00Z")
    assert ready_condition(None, "Progressing", "", at).status == "Unknown"
    record = _record()
    assert record.condition("Ready").status == "True" and record.condition("Healthy") is None
    assert ObjectId("apps", "Deployment", "apps", "web") in record.ids
