"""Per-object unified diffs and changed field paths."""

from __future__ import annotations

import pytest

from fluxpush.planning.diff import MAX_VALUE_CHARS, diff_objects, field_changes, to_yaml


def deployment(replicas=1, image="nginx:1", **meta):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps", **meta},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [
            {"name": "web", "image": image}, {"name": "sidecar", "image": "envoy:1"}]}}},
    }


def test_unified_diff_names_the_object_and_shows_the_change():
    diff = diff_objects(deployment(1), deployment(3), desired_label="merged")
    lines = diff.text.splitlines()
    assert lines[:2] == ["--- live Deployment/apps/web", "+++ merged Deployment/apps/web"]
    assert "-  replicas: 1" in lines and "+  replicas: 3" in lines
    assert [str(c) for c in diff.changes] == ["spec.replicas: 1 -> 3"]


def test_server_metadata_and_status_alone_are_no_change():
    live = deployment(uid="u", resourceVersion="9", generation=2, managedFields=[{"manager": "m"}])
    live["status"] = {"readyReplicas": 1}
    diff = diff_objects(live, deployment())
    assert diff.text == "" and diff.changes == () and not diff.has_changes


def test_yaml_keys_are_sorted():
    assert to_yaml({"b": 1, "a": {"d": 2, "c": 3}}) == "a:\n  c: 3\n  d: 2\nb: 1\n"
    assert to_yaml(None) == ""


def test_created_object_is_all_additions():
    diff = diff_objects(None, deployment())
    lines = diff.text.splitlines()
    assert lines[0] == "--- live Deployment/apps/web"
    body = [line for line in lines[3:]]
    assert body and all(line.startswith("+") for line in body)


def test_deleted_object_is_all_removals():
    lines = diff_objects(deployment(), None).text.splitlines()
    assert lines[1] == "+++ desired Deployment/apps/web"
    assert all(line.startswith("-") for line in lines[3:])


def test_diff_needs_an_object():
    with pytest.raises(ValueError, match="at least one"):
        diff_objects(None, None)


def test_field_paths_match_named_list_items_and_quote_odd_keys():
    before = deployment(labels={"app.kubernetes.io/name": "web"})
    after = deployment(image="nginx:2", labels={"app.kubernetes.io/name": "api", "tier": "front"})
    assert [str(c) for c in field_changes(before, after)] == [
        'metadata.labels["app.kubernetes.io/name"]: web -> api',
        "metadata.labels.tier: (absent) -> front",
        "spec.template.spec.containers[web].image: nginx:1 -> nginx:2",
    ]


def test_reordering_a_named_list_is_a_change():
    after = deployment()
    after["spec"]["template"]["spec"]["containers"].reverse()
    assert [str(c) for c in field_changes(deployment(), after)] == [
        "spec.template.spec.containers (order): web,sidecar -> sidecar,web"]


def test_field_paths_index_unnamed_lists_and_show_added_or_removed_items():
    before = {"spec": {"args": ["a", "b"]}}
    after = {"spec": {"args": ["a", "c", "d"]}}
    assert [str(c) for c in field_changes(before, after)] == [
        "spec.args[1]: b -> c", "spec.args[2]: (absent) -> d"]


def test_long_and_structured_values_are_shown_compactly():
    long_value = "x" * 200
    (change,) = field_changes({"a": {"k": long_value}}, {"a": {"k": {"nested": [1, 2]}}})
    assert len(change.before) == MAX_VALUE_CHARS and change.before.endswith("…")
    assert change.after == '{"nested":[1,2]}'
    (change,) = field_changes({"a": "two words"}, {"a": ""})
    assert (change.before, change.after) == ('"two words"', '""')


def test_to_yaml_uses_the_one_block_dumper_no_anchors_and_scripts_as_blocks():
    shared = {"cpu": "100m"}  # one dict at two places, as a copied template may leave it
    text = to_yaml({"limits": shared, "requests": shared, "script": "set -e\necho hi\n"})
    assert "&id" not in text and "*id" not in text
    assert text == ("limits:\n  cpu: 100m\nrequests:\n  cpu: 100m\n"
                    "script: |\n  set -e\n  echo hi\n")
