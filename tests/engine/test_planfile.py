"""The pure parts of plan files: what is carried by digest, what counts as moved, the plan digest a
deploy compares with its preview, and the refusal of files that are not (or no longer) plan files."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from fluxpush.engine.planfile import (
    PlanFileError,
    PlannedNode,
    Snapshot,
    carried_by_digest,
    diverged,
    dumps,
    live_version,
    loads,
    make_plan_file,
    moved_objects,
    plan_digest,
)
from fluxpush.flux.model import ObjectRef
from fluxpush.planning.normalize import ObjectId, object_id
from fluxpush.planning.options import EngineOptions
from fluxpush.planning.plan import Action, NodePlan, ObjectChange, Plan
from fluxpush.redact import register_secret
from fluxpush.repository.discover import DiscoverOptions, discover

CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"},
             "data": {"url": "https://example.com/hook"}}


@pytest.fixture(scope="module")
def discovery(example_repo):
    return discover(example_repo, DiscoverOptions(cluster_path="clusters/dev"))


def test_secrets_and_objects_holding_a_registered_secret_are_carried_by_digest():
    assert not carried_by_digest(CONFIGMAP)
    assert carried_by_digest({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
    register_secret("https://example.com/hook")  # e.g. a webhook address read from a Secret
    assert carried_by_digest(CONFIGMAP)


def cm(name: str) -> ObjectId:
    return ObjectId("", "ConfigMap", "n", name)


def test_moved_objects_names_each_way_an_object_moved():
    """`a` only got a new resourceVersion (a controller wrote its status): not moved."""
    planned = Snapshot(versions={cm("a"): "1/aa", cm("b"): "", cm("c"): "3/cc", cm("d"): "4/dd",
                                 cm("e"): "5/ee"})
    now = Snapshot(versions={cm("a"): "2/aa", cm("b"): "7/bb", cm("c"): "", cm("d"): "9/d2",
                             cm("e"): "5/ee"})
    assert moved_objects(planned, now) == {
        cm("b"): "planned as absent, it exists now",
        cm("c"): "deleted since the plan (was resourceVersion 3)",
        cm("d"): "changed since the plan (resourceVersion 4 → 9)",
    }


def test_the_plan_digest_ignores_the_revision_name_but_not_content_or_deletions(discovery):
    plan = Plan()
    digest = plan_digest(plan, discovery)
    merged = replace(discovery, source=replace(discovery.source, revision="main@sha1:" + "b" * 40))
    assert plan_digest(plan, merged) == digest
    deletion = ObjectChange(ObjectId("", "ConfigMap", "app-2", "old"), Action.DELETE)
    pruning = Plan((NodePlan(ObjectRef.parse("Kustomization/flux-system/app-2"), "", prune=(deletion,)),))
    assert plan_digest(pruning, discovery) != digest
    ref = next(r for r in discovery.nodes if r.name == "app-2")
    node = discovery.nodes[ref]
    changed = replace(node, objects=[*node.objects[1:], {**node.objects[0], "extra": 1}])
    assert plan_digest(plan, replace(discovery, nodes={**discovery.nodes, ref: changed})) != digest


def test_a_written_plan_file_reads_back(discovery):
    node, grouped = next((n, oid) for n in discovery.ordered_nodes()  # e.g. an apps Deployment
                         for oid in map(object_id, n.objects) if oid.group)
    snapshot = Snapshot("uid-1", {grouped: "1/aa", cm("absent"): ""}, {node.ref: "2/bb"})
    written = make_plan_file(Plan(), discovery, snapshot, EngineOptions())
    text = dumps(written)
    document = json.loads(text)["execution"]  # objects by Flux inventory id, nodes by Kind/namespace/name
    assert document["live"] == {grouped.inventory_id: "1/aa", "n_absent__ConfigMap": ""}
    assert document["records"] == {str(node.ref): "2/bb"}
    again = loads(text, "plan.json")
    assert again.snapshot == written.snapshot  # typed again, the API group read from the id
    assert again.nodes == written.nodes
    assert again.options == {"prune": True, "force": False, "allow_destructive_prune": False}
    assert (again.revision, again.cluster_path) == (discovery.revision, "clusters/dev")


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "is not a plan file written by `fluxpush plan --plan-file`"),
    ('{"execution": {"kind": "other"}}', "has no execution section"),
    ('{"execution": {"kind": "fluxpush-plan-file", "version": 99}}', "of version 99"),
    ('{"execution": {"kind": "fluxpush-plan-file", "version": 2, "checksum": "sha256:0"}}',
     "was changed after `fluxpush plan` wrote it"),
])
def test_files_that_are_not_plan_files_are_refused_by_name(text, message):
    with pytest.raises(PlanFileError, match=r"plan\.json") as raised:
        loads(text, "plan.json")
    assert message in str(raised.value)


def test_objects_of_one_kind_and_name_in_two_api_groups_stay_distinct_through_the_file(discovery):
    # Flux's inventory id (namespace_name_group_kind) names the group; Kind/namespace/name does not
    networking = ObjectId("networking.k8s.io", "Ingress", "n", "web")
    extensions = ObjectId("extensions", "Ingress", "n", "web")
    node = next(iter(discovery.ordered_nodes()))
    planned = PlannedNode(node.ref, "sha256:0", by_digest={networking: "sha256:aa", extensions: "sha256:bb"})
    snapshot = Snapshot("uid-1", {networking: "1/aa", extensions: "2/bb"})
    written = replace(make_plan_file(Plan(), discovery, snapshot, EngineOptions()), nodes=(planned,))
    again = loads(dumps(written), "plan.json")
    assert again.snapshot.versions == {networking: "1/aa", extensions: "2/bb"}
    assert again.nodes[0].by_digest == {networking: "sha256:aa", extensions: "sha256:bb"}


def test_a_plan_file_of_the_previous_format_is_refused_with_plan_again(discovery):
    document = json.loads(dumps(make_plan_file(Plan(), discovery, Snapshot(), EngineOptions())))
    document["execution"]["version"] = 1  # version 1 keyed objects by Kind/namespace/name
    with pytest.raises(PlanFileError, match=r"plan\.json is a plan file of version 1.*plan again"):
        loads(json.dumps(document), "plan.json")


def test_a_hand_edited_execution_section_is_refused(discovery):
    document = json.loads(dumps(make_plan_file(Plan(), discovery, Snapshot(), EngineOptions())))
    document["execution"]["cluster_path"] = "clusters/prod"
    with pytest.raises(PlanFileError, match="was changed after"):
        loads(json.dumps(document), "plan.json")


def test_diverged_lists_objects_applied_with_another_action_than_planned():
    oid, other = ObjectId("", "ConfigMap", "n", "c"), ObjectId("", "ConfigMap", "n", "d")
    node = "Kustomization/flux-system/app"
    created = ObjectChange(other, Action.CREATE)
    planned = Plan((NodePlan(node, "", (ObjectChange(oid, Action.UNCHANGED), created)),))
    applied = Plan((NodePlan(node, "", (ObjectChange(oid, Action.UPDATE), created)),))
    assert diverged(planned, applied) == {oid: "planned unchanged, applied update"}
    assert diverged(planned, planned) == {}


def test_a_status_write_is_not_a_move_but_a_spec_or_owner_change_is():
    live = {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 1},
            "metadata": {"name": "d", "resourceVersion": "5", "managedFields": [
                {"manager": "kustomize-controller", "operation": "Apply", "time": "t1", "fieldsV1": {}}]}}
    status = {**live, "status": {"readyReplicas": 1}, "metadata": {**live["metadata"], "resourceVersion": "6",
              "managedFields": [{**live["metadata"]["managedFields"][0], "time": "t2"},
                                {"manager": "kubelet", "subresource": "status", "fieldsV1": {}}]}}
    scaled = {**live, "spec": {"replicas": 2}, "metadata": {**live["metadata"], "resourceVersion": "7"}}
    owned = {**live, "metadata": {**live["metadata"], "managedFields": [
        *live["metadata"]["managedFields"], {"manager": "kubectl", "operation": "Apply", "fieldsV1": {}}]}}
    d = ObjectId("apps", "Deployment", "", "d")
    planned = Snapshot(versions={d: live_version(live)})
    assert moved_objects(planned, Snapshot(versions={d: live_version(status)})) == {}
    assert moved_objects(planned, Snapshot(versions={d: live_version(scaled)})) == {
        d: "changed since the plan (resourceVersion 5 → 7)"}
    assert d in moved_objects(planned, Snapshot(versions={d: live_version(owned)}))
