"""The plan as a stage (decision 0011): a read stage gathers a `PlanReads` value, a pure classifier
turns desired objects plus that value into planned objects.

The pure half is checked with hand-built values and no client at all, and by importing it in a fresh
interpreter that must not load `fluxpush.kube`; the read half against kubesim, counting dry runs: the
server way dry-runs every object, the client way only what it cannot decide (a create here), the
read-only way none, as decision 0005 says.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from fluxpush.errors import Invalid, NotFound
from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.classifier import PlanReads, classify_objects, needs_dry_run, plan_object
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.normalize import object_id
from fluxpush.planning.options import FIELD_MANAGER, PlanWay
from fluxpush.planning.plan import Action
from fluxpush.planning.planner import plan_objects
from fluxpush.planning.reads import read_for_plan
from kubesim import KubeSim, Options


def config_map(name: str, namespace: str = "apps", **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": dict(data)}


def owned(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` as the server holds it after our field manager applied it."""
    fields = {f"f:{key}": {} for key in obj["data"]}
    entry = {"manager": FIELD_MANAGER, "operation": "Apply", "apiVersion": "v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": fields}}
    return {**obj, "metadata": {**obj["metadata"], "uid": "u-1", "resourceVersion": "7",
                                "managedFields": [entry]}}


# -- the pure half: no client anywhere --

def test_unchanged_created_and_drifted_objects_classify_from_a_hand_built_value():
    same, new, drifted = config_map("same", a="1"), config_map("new", a="1"), config_map("drifted", a="2")
    live_drifted = owned(config_map("drifted", a="1"))
    reads = PlanReads(live={object_id(same): owned(same), object_id(new): None,
                            object_id(drifted): live_drifted},
                      dry_runs={object_id(same): owned(same), object_id(new): new,
                                object_id(drifted): owned(drifted)})
    planned = classify_objects([same, new, drifted], reads, PlanWay.SERVER)
    assert [p.change.action for p in planned] == [Action.UNCHANGED, Action.CREATE, Action.UPDATE]
    assert "-  a: '1'\n+  a: '2'\n" in planned[2].change.diff
    assert planned[2].change.changed_paths == ("data.a: 1 -> 2",)


def test_a_type_not_served_yet_is_a_create_that_says_so_without_any_read():
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "a"}}
    planned = plan_object(widget, PlanReads(unserved=frozenset({("example.com/v1", "Widget")})),
                          PlanWay.SERVER)
    assert planned.change.action is Action.CREATE
    assert planned.change.reason == "example.com/v1 Widget is not served yet (its CRD is applied first)"


def test_refusals_in_the_value_classify_as_before():
    early, bad = config_map("early", "not-yet"), config_map("bad")
    missing = NotFound("namespaces \"not-yet\" not found", missing="namespaces")
    invalid = Invalid("ConfigMap apps/bad is invalid: data: too long")
    reads = PlanReads(live={object_id(early): None, object_id(bad): None},
                      dry_runs={object_id(early): missing, object_id(bad): invalid})
    made, refused = classify_objects([early, bad], reads, PlanWay.SERVER)
    assert (made.change.action, made.change.reason, made.error) == (
        Action.CREATE, "namespace not-yet does not exist yet: it is created first", None)
    assert (refused.change.action, refused.change.reason, refused.error) == (
        Action.SKIP, "refused by the server", invalid)
    assert not refused.needs_apply


def test_the_client_way_dry_runs_only_what_it_cannot_decide():
    desired = config_map("x", a="1")
    same = owned(desired)
    other_version = {**same, "apiVersion": "v1beta1"}  # read under another version: undecided
    assert needs_dry_run(desired, None, PlanWay.CLIENT)  # a create
    assert not needs_dry_run(desired, same, PlanWay.CLIENT)
    assert needs_dry_run(desired, other_version, PlanWay.CLIENT)
    assert not needs_dry_run(desired, other_version, PlanWay.READ_ONLY)
    assert needs_dry_run(desired, same, PlanWay.SERVER)
    ignored = {**desired, "metadata": {**desired["metadata"],
                                       "annotations": {"kustomize.toolkit.fluxcd.io/ssa": "Ignore"}}}
    assert not needs_dry_run(ignored, same, PlanWay.SERVER)  # Flux skips it: nothing to ask


def test_read_only_plans_an_undecided_object_as_an_update_saying_why():
    desired = config_map("x", a="1")
    other_version = {**owned(desired), "apiVersion": "v1beta1"}
    planned = plan_object(desired, PlanReads(live={object_id(desired): other_version}), PlanWay.READ_ONLY)
    assert planned.change.action is Action.UPDATE
    assert planned.change.reason.startswith("undecided without a dry-run: apiVersion")


def test_a_value_missing_what_the_way_needs_is_an_error_not_a_guess():
    desired = config_map("x", a="1")
    with pytest.raises(ValueError, match="did not read ConfigMap"):
        plan_object(desired, PlanReads(), PlanWay.READ_ONLY)
    with pytest.raises(ValueError, match=r"did not dry-run .* the server way needs"):
        plan_object(desired, PlanReads(live={object_id(desired): None}), PlanWay.SERVER)


def test_the_value_is_immutable():
    desired = config_map("x")
    source = {object_id(desired): None}
    reads = PlanReads(live=source)
    source[object_id(config_map("y"))] = None  # the caller's dict is not the value's
    assert list(reads.live) == [object_id(desired)]
    with pytest.raises(TypeError):
        reads.live[object_id(desired)] = desired  # type: ignore[index]


def test_the_classifier_loads_no_cluster_client():
    code = ("import sys, fluxpush.planning.classifier; "
            "print(sorted(m for m in sys.modules if m.startswith(('fluxpush.kube', 'urllib3', 'ssl'))))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


# -- the read half, against kubesim --

@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[KubeSim, KubeClient]]:
    with KubeSim(Options(controllers=False)) as sim, KubeClient(connect_sandbox(sim)) as client:
        client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, "test")
        client.apply(config_map("same", a="1"), FIELD_MANAGER)
        client.apply(config_map("drifted", a="1"), FIELD_MANAGER)
        yield sim, client


DESIRED = [config_map("same", a="1"), config_map("drifted", a="2"), config_map("new", a="1"),
           config_map("early", "not-yet", a="1")]


def _dry_runs(sim: KubeSim) -> list[str]:
    return sorted(e.path.rsplit("/", 1)[1] for e in sim.requests.entries() if e.query.get("dryRun"))


@pytest.mark.parametrize(("way", "dry_run"), [
    (PlanWay.SERVER, ["drifted", "early", "new", "same"]),
    (PlanWay.CLIENT, ["early", "new"]),  # the client comparison decides the two that exist
    (PlanWay.READ_ONLY, []),
])
def test_the_read_stage_dry_runs_what_the_way_needs_and_classification_agrees(cluster, way, dry_run):
    sim, client = cluster
    index = LiveIndex(client)
    index.get(DESIRED[0])  # discovery and the apps ConfigMaps read before counting
    sim.requests.clear()
    reads = read_for_plan(DESIRED, index, way)
    assert _dry_runs(sim) == dry_run
    assert sorted(oid.name for oid in reads.dry_runs) == dry_run
    sim.requests.clear()
    planned = classify_objects(DESIRED, reads, way)
    assert sim.requests.entries() == []  # classification reads nothing
    assert [p.change.action for p in planned] == [Action.UNCHANGED, Action.UPDATE, Action.CREATE,
                                                  Action.CREATE]
    assert planned == plan_objects(DESIRED, LiveIndex(client), way)  # the composition is read + classify
