"""The client way: changed / unchanged / undecided from the live object and our managedFields."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from fluxpush.planning.clientside import (
    Comparison,
    client_side_changed,
    owned_fields,
    parse_quantity,
    project_apply,
)

MANAGER = "kustomize-controller"
WEB_FIELDS = {
    "f:metadata": {"f:labels": {"f:app": {}}},
    "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
        'k:{"name":"web"}': {".": {}, "f:name": {}, "f:image": {},
                             "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {
                                 ".": {}, "f:containerPort": {}, "f:protocol": {}}},
                             "f:resources": {"f:limits": {"f:cpu": {}}}}}}}},
}


def desired():
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}],
             "resources": {"limits": {"cpu": "0.5"}}}]}}},
    }


def live(fields=None, manager=MANAGER):
    """What the server holds after our apply: defaults filled, another manager's sidecar, status."""
    obj = copy.deepcopy(desired())
    obj["metadata"].update(uid="u", resourceVersion="5", generation=1, managedFields=[
        {"manager": manager, "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
         "fieldsV1": WEB_FIELDS if fields is None else fields},
        {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
         "fieldsV1": {"f:status": {"f:replicas": {}}}},
    ])
    spec = obj["spec"]
    spec.update(revisionHistoryLimit=10, progressDeadlineSeconds=600)
    container = spec["template"]["spec"]["containers"][0]
    container.update(imagePullPolicy="IfNotPresent", terminationMessagePath="/dev/termination-log")
    container["ports"][0]["protocol"] = "TCP"
    container["resources"]["limits"]["cpu"] = "500m"  # canonicalized by the server
    spec["template"]["spec"]["containers"].append({"name": "istio-proxy", "image": "proxy:1"})
    obj["status"] = {"replicas": 2}
    return obj


def verdict(want, have):
    return client_side_changed(want, have, MANAGER)


def test_defaults_other_owners_and_canonical_quantities_leave_it_unchanged():
    result = verdict(desired(), live())
    assert result.verdict is Comparison.UNCHANGED and result.reason == ""


def test_a_value_desired_sets_differently_is_a_change():
    want = desired()
    want["spec"]["replicas"] = 3
    result = verdict(want, live())
    assert result.verdict is Comparison.CHANGED and result.reason == "spec.replicas: differs"


def test_a_new_field_is_a_change():
    want = desired()
    want["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    assert verdict(want, live()).verdict is Comparison.CHANGED


def test_a_new_item_of_a_keyed_list_is_a_change():
    want = desired()
    want["spec"]["template"]["spec"]["containers"].append({"name": "job", "image": "busybox"})
    result = verdict(want, live())
    assert result.verdict is Comparison.CHANGED and "containers[job]" in result.reason


def test_a_field_we_own_that_desired_dropped_would_be_removed():
    want = desired()
    del want["spec"]["template"]["spec"]["containers"][0]["resources"]
    result = verdict(want, live())
    assert result.verdict is Comparison.CHANGED
    assert result.reason == 'spec.template.spec.containers[{"name":"web"}].resources: owned by ' \
                            "kustomize-controller, no longer desired"


def test_a_field_someone_else_owns_that_desired_never_had_is_no_change():
    have = live()
    have["metadata"]["labels"]["team"] = "a"  # not in our field set
    assert verdict(desired(), have).verdict is Comparison.UNCHANGED


def test_without_an_apply_entry_of_ours_only_the_values_decide():
    have = live(manager="kubectl")
    assert verdict(desired(), have).verdict is Comparison.UNCHANGED
    assert owned_fields(have, MANAGER) is None


def test_a_certain_change_wins_over_undecided_parts():
    want = desired()
    want["spec"]["template"]["spec"]["containers"][0]["args"] = []  # undecided on its own
    want["spec"]["replicas"] = 9
    assert verdict(want, live()).verdict is Comparison.CHANGED


def _with(path, value):
    want = desired()
    node = want
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return want


CONTAINER = ("spec", "template", "spec", "containers")


@pytest.mark.parametrize(("make", "why"), [
    # 1. live read at another version: conversion may rename or default fields.
    (lambda: (_with(("apiVersion",), "apps/v1beta2"), live()), "apiVersion"),
    # 2. an empty value where live has none: the server may drop it.
    (lambda: (_with(("spec", "template", "spec", "nodeSelector"), {}), live()), "empty in desired"),
    # 3. null where live has a value: null means "not mine", someone else may keep it.
    (lambda: (_with(("spec", "revisionHistoryLimit"), None), live()), "null in desired"),
    # 5. a built-in list of mappings with no known key whose live items carry extra (defaulted?) fields.
    (lambda: (_with(("spec", "template", "spec", "tolerations"), [{"key": "k"}]),
              _tolerations_live([{"key": "k", "operator": "Equal"}])), "live items carry fields"),
])
def test_undecided_cases(make, why):
    want, have = make()
    result = verdict(want, have)
    assert result.verdict is Comparison.UNDECIDED
    assert why in result.reason


def _tolerations_live(tolerations):
    have = live()
    have["spec"]["template"]["spec"]["tolerations"] = tolerations
    return have


def test_scalar_list_with_extra_live_items_is_undecided_but_a_missing_item_is_a_change():
    # 4. a set with other owners keeps extra items; an atomic list would drop them.
    want = _with(("metadata", "finalizers"), ["a"])
    have = live()
    have["metadata"]["finalizers"] = ["a", "b"]
    assert verdict(want, have).verdict is Comparison.UNDECIDED
    have["metadata"]["finalizers"] = ["b"]
    assert verdict(want, have).verdict is Comparison.CHANGED


def test_keyed_list_item_without_its_key_is_undecided():
    # 6. an item of a keyed list that lacks a key field.
    want = desired()
    want["spec"]["template"]["spec"]["containers"][0]["env"] = [{"value": "x"}]
    have = live()
    have["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "x"}]
    assert verdict(want, have).verdict is Comparison.UNDECIDED


def test_keyed_list_in_another_order_live_is_undecided():
    want = desired()
    want["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"},
                                                               {"name": "B", "value": "2"}]
    have = live()
    have["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "B", "value": "2"},
                                                               {"name": "A", "value": "1"}]
    result = verdict(want, have)
    assert result.verdict is Comparison.UNDECIDED and "another order" in result.reason
    have["spec"]["template"]["spec"]["containers"][0]["env"].reverse()
    assert verdict(want, have).verdict is Comparison.UNCHANGED


def test_positional_entries_in_our_field_set_are_undecided():
    # 7. a positional (`i:`) entry cannot be matched to desired.
    fields = copy.deepcopy(WEB_FIELDS)
    fields["f:spec"]["f:template"]["f:spec"]["f:hostAliases"] = {"i:0": {}}
    aliases = [{"ip": "10.0.0.1", "hostnames": ["db"]}]
    have = live(fields)
    have["spec"]["template"]["spec"]["hostAliases"] = aliases
    result = verdict(_with(("spec", "template", "spec", "hostAliases"), aliases), have)
    assert result.verdict is Comparison.UNDECIDED and "positional" in result.reason


def test_lists_of_custom_resources_are_atomic():
    want = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"containers": [{"name": "a"}]}}
    have = copy.deepcopy(want)
    have["spec"]["containers"].append({"name": "b"})  # an atomic apply would drop it
    assert verdict(want, have).verdict is Comparison.CHANGED
    have = copy.deepcopy(want)
    have["spec"]["containers"] = [{"name": "a", "x": 1}]
    assert verdict(want, have).verdict is Comparison.UNDECIDED


def test_quantities_are_compared_by_value_only_under_resource_keys():
    want = desired()
    want["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "600m"
    assert verdict(want, live()).verdict is Comparison.CHANGED
    env_want = desired()
    env_want["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "N", "value": "1000m"}]
    env_live = live()
    env_live["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "N", "value": "1"}]
    assert verdict(env_want, env_live).verdict is Comparison.CHANGED  # an env value is a plain string


@pytest.mark.parametrize(("text", "value"), [
    ("500m", Decimal("0.5")), ("0.5", Decimal("0.5")), ("1Gi", Decimal(2**30)), ("1G", Decimal(10**9)),
    ("1e3", Decimal(1000)), ("128974848", Decimal(128974848)), ("129e6", Decimal(129000000)),
])
def test_parse_quantity(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1Gb", "--1"])
def test_parse_quantity_rejects_non_quantities(text):
    assert parse_quantity(text) is None


def test_project_apply_merges_desired_into_live_keeping_other_owners_items():
    want = desired()
    want["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    projected = project_apply(want, live())
    containers = projected["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["web", "istio-proxy"]
    assert containers[0]["image"] == "nginx:2"
    assert containers[0]["imagePullPolicy"] == "IfNotPresent"  # live defaults kept
    assert "managedFields" not in projected["metadata"] and "status" not in projected
