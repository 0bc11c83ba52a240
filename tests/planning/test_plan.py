"""Classification of objects, the plan model, its JSON round trip and terminal rendering."""

from __future__ import annotations

import copy

import pytest

from fluxpush.flux.model import ObjectRef
from fluxpush.planning.normalize import RECONCILE_KEY, SSA_KEY, ObjectId
from fluxpush.planning.plan import (
    FIELD_MANAGER,
    Action,
    NodePlan,
    ObjectChange,
    Plan,
    Totals,
    classify,
    delete_change,
)
from fluxpush.report.terminal import render_text, short_revision

DIFF = "--- live\n+++ merged\n@@ -1 +1 @@\n-replicas: 1\n+replicas: 3\n"
REVISION = "main@sha1:" + "0123456789abcdef" * 2 + "01234567"


def config_map(data=None, *, labels=None, annotations=None, **server):
    meta = {"name": "settings", "namespace": "apps", **server}
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"mode": "a"}}


def live_config_map(data=None, **meta):
    fields = {"f:data": {f"f:{key}": {} for key in (data or {"mode": "a"})}}
    return config_map(data, uid="u", resourceVersion="3", managedFields=[
        {"manager": FIELD_MANAGER, "operation": "Apply", "apiVersion": "v1", "fieldsV1": fields}], **meta)


@pytest.mark.parametrize(("desired_meta", "live_meta", "live_exists", "reason"), [
    ({"annotations": {RECONCILE_KEY: "disabled"}}, {}, True, "reconcile: disabled"),
    ({}, {"labels": {RECONCILE_KEY: "Disabled"}}, True, "reconcile: disabled"),  # on live, any case
    ({"labels": {SSA_KEY: "ignore"}}, {}, False, "ssa: Ignore"),
    ({}, {"annotations": {SSA_KEY: "Ignore"}}, True, "ssa: Ignore"),
    ({"annotations": {SSA_KEY: "IfNotPresent"}}, {}, True, "ssa: IfNotPresent"),
])
def test_skips_follow_flux_per_object_settings(desired_meta, live_meta, live_exists, reason):
    live = live_config_map(**live_meta) if live_exists else None
    change = classify(config_map({"mode": "b"}, **desired_meta), live, None)
    assert (change.action, change.reason) == (Action.SKIP, reason)
    assert change.diff == ""


def test_if_not_present_creates_a_missing_object():
    change = classify(config_map(annotations={SSA_KEY: "IfNotPresent"}), None, None)
    assert change.action is Action.CREATE


def test_create_carries_the_whole_object_as_diff():
    change = classify(config_map(), None, None)
    assert change.id == ObjectId("", "ConfigMap", "apps", "settings")
    assert change.action is Action.CREATE
    assert "+data:" in change.diff and "+  mode: a" in change.diff


def test_dry_run_result_equal_to_live_is_unchanged_even_with_fresh_server_fields():
    merged = live_config_map()
    merged["metadata"]["resourceVersion"] = "4"
    merged["metadata"]["managedFields"][0]["time"] = "2026-12-02T05:00:00Z"
    change = classify(config_map(), live_config_map(), merged)
    assert change == ObjectChange(ObjectId("", "ConfigMap", "apps", "settings"), Action.UNCHANGED)


def test_dry_run_result_with_drift_is_an_update_with_diff_and_paths():
    merged = live_config_map({"mode": "b"})
    change = classify(config_map({"mode": "b"}), live_config_map(), merged)
    assert change.action is Action.UPDATE
    assert change.changed_paths == ("data.mode: a -> b",)
    assert change.diff.startswith("--- live ConfigMap/apps/settings\n+++ merged ConfigMap/apps/settings\n")


def test_kubectl_leftovers_make_an_update_unless_ssa_merge():
    kubectl = {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    live = live_config_map(annotations=kubectl)
    change = classify(config_map(), live, copy.deepcopy(live))
    assert change.action is Action.UPDATE
    assert change.reason == "metadata cleanup: kubectl.kubernetes.io/last-applied-configuration"
    merge = {**kubectl, SSA_KEY: "Merge"}
    live = live_config_map(annotations=merge)
    merged = copy.deepcopy(live)
    assert classify(config_map(annotations={SSA_KEY: "Merge"}), live, merged).action is Action.UNCHANGED


@pytest.mark.parametrize(("manager", "operation", "folded"), [
    ("kubectl", "Update", True),
    ("kubectl", "Apply", True),
    ("before-first-apply", "Update", True),
    (FIELD_MANAGER, "Update", True),  # our own pre-SSA writes
    ("kubectl-client-side-apply", "Update", False),  # not in kustomize-controller's list
    ("helm", "Update", False),
])
def test_managed_fields_kustomize_controller_folds_make_a_cleanup(manager, operation, folded):
    live = live_config_map()
    live["metadata"]["managedFields"].append({"manager": manager, "operation": operation, "fieldsV1": {}})
    change = classify(config_map(), live, copy.deepcopy(live))
    if folded:
        assert (change.action, change.reason) == \
            (Action.UPDATE, f"metadata cleanup: managedFields of {manager} ({operation})")
    else:
        assert change.action is Action.UNCHANGED


def test_client_way_unchanged_changed_and_undecided():
    assert classify(config_map(), live_config_map(), None).action is Action.UNCHANGED
    changed = classify(config_map({"mode": "b"}), live_config_map(), None)
    assert (changed.action, changed.reason) == (Action.UPDATE, "")
    assert changed.changed_paths == ("data.mode: a -> b",)
    assert changed.diff.splitlines()[1] == "+++ desired ConfigMap/apps/settings"
    undecided = classify(config_map({"mode": "a", "empty": ""}), live_config_map(), None)
    assert undecided.action is Action.UPDATE
    assert undecided.reason.startswith("undecided without a dry-run: data.empty: empty in desired")


def test_client_way_removal_of_an_owned_field_is_explained():
    live = live_config_map({"mode": "a", "old": "x"})
    change = classify(config_map({"mode": "a"}), live, None)
    assert change.action is Action.UPDATE
    assert change.reason == "data.old: owned by kustomize-controller, no longer desired"


def test_delete_change_shows_the_object_going():
    change = delete_change(live_config_map())
    assert change.action is Action.DELETE
    assert "-data:" in change.diff and "uid" not in change.diff


def _plan():
    cm = ObjectId("", "ConfigMap", "apps", "settings")
    web = ObjectId("apps", "Deployment", "apps", "web")
    apps = NodePlan(ObjectRef.parse("Kustomization/flux-system/apps"), REVISION, (
        ObjectChange(cm, Action.CREATE, diff="+x\n"),
        ObjectChange(web, Action.UPDATE, diff=DIFF, changed_paths=("spec.replicas: 1 -> 3",)),
        ObjectChange(ObjectId("", "Service", "apps", "web"), Action.UNCHANGED),
        ObjectChange(ObjectId("", "Secret", "apps", "keep"), Action.SKIP, "ssa: Ignore"),
    ), prune=(ObjectChange(ObjectId("", "Secret", "apps", "old"), Action.DELETE),))
    infra = NodePlan(ObjectRef.parse("Kustomization/flux-system/infra"), REVISION,
                     error="kustomize build failed")
    blocked = NodePlan(ObjectRef.parse("Kustomization/flux-system/late"), REVISION,
                       blocked_by=("Kustomization/flux-system/infra",))
    quiet = NodePlan(ObjectRef.parse("HelmRelease/apps/redis"), "6.3.5",
                     (ObjectChange(ObjectId("apps", "StatefulSet", "apps", "redis"), Action.UNCHANGED),))
    return Plan((apps, infra, blocked, quiet))


def test_totals_and_flags():
    plan = _plan()
    assert plan.totals == Totals(create=1, update=1, delete=1, unchanged=2, skip=1)
    assert str(plan.totals) == "1 to create, 1 to update, 1 to delete, 2 unchanged, 1 skipped"
    assert str(Totals(3, 1, 2, 10)) == "3 to create, 1 to update, 2 to delete, 10 unchanged"
    assert plan.has_changes
    assert not plan.nodes[3].has_changes
    assert not Plan((plan.nodes[3],)).has_changes


def test_json_round_trip():
    plan = _plan()
    assert Plan.from_json(plan.to_json()) == plan
    assert Plan.from_json(Plan().to_json()) == Plan()


def test_json_of_another_format_is_refused():
    with pytest.raises(ValueError, match="plan format"):
        Plan.from_json('{"format": 99, "nodes": []}')


def test_render_text_reads_like_flux_diff():
    text = render_text(_plan(), color=False)
    lines = text.splitlines()
    assert lines[0] == "📁 Kustomization/flux-system/apps (main@sha1:01234567) changed"
    assert "► ConfigMap/apps/settings created" in lines
    assert "► Deployment/apps/web drifted" in lines
    assert "  +replicas: 3" in lines
    assert "► Secret/apps/keep skipped (ssa: Ignore)" in lines
    assert "► Secret/apps/old deleted" in lines
    assert not any("Service/apps/web" in line for line in lines)  # unchanged objects are not listed
    assert "📁 Kustomization/flux-system/infra (main@sha1:01234567) failed: kustomize build failed" in lines
    blocked = "📁 Kustomization/flux-system/late (main@sha1:01234567) blocked by " \
              "Kustomization/flux-system/infra"
    assert blocked in lines
    assert "📁 HelmRelease/apps/redis (6.3.5) unchanged" in lines
    assert lines[-1] == "Plan: 1 to create, 1 to update, 1 to delete, 2 unchanged, 1 skipped"
    assert "\x1b[" not in text


def test_render_text_with_color_paints_actions_and_diff_lines():
    text = render_text(_plan(), color=True)
    assert "\x1b[32m► ConfigMap/apps/settings created\x1b[0m" in text
    assert "\x1b[31m► Secret/apps/old deleted\x1b[0m" in text
    assert "  \x1b[32m+replicas: 3\x1b[0m" in text and "  \x1b[31m-replicas: 1\x1b[0m" in text


def test_short_revision_keeps_eight_hex_like_the_flux_cli():
    assert short_revision(REVISION) == "main@sha1:01234567"
    assert short_revision("6.3.5") == "6.3.5"
    assert short_revision("v1@sha256:" + "ab" * 32) == "v1@sha256:abababab"
