"""The engine against kubesim over HTTPS, on a copy of the example repository: first apply in
dependency order, idempotent second run, an overlay edit, prune, drift, a failing node, health.

Behaviour matched: kustomize-controller's (Flux 2.x) — server-side apply with field manager
`kustomize-controller`, owner labels, dependsOn gating, prune of objects dropped from Git only
after a successful apply, drift on live edits reverted by the next apply.
"""

from __future__ import annotations

import pytest

from fluxpush.flux.model import ObjectRef
from fluxpush.planning.inventory import InventoryRecord, inventory_name
from fluxpush.planning.options import PlanWay
from fluxpush.planning.plan import FIELD_MANAGER, Action
from fluxpush.planning.result import Outcome
from fluxpush.planning.store import store_inventory

pytestmark = pytest.mark.integration


def ks(name: str) -> ObjectRef:
    return ObjectRef("Kustomization", "flux-system", name)


def _changes(run, node: str) -> dict[str, Action]:
    plan = next(n for n in run.plan.nodes if n.node == ks(node))
    return {str(c.id): c.action for c in (*plan.changes, *plan.prune) if c.action is not Action.UNCHANGED}


def test_first_apply_creates_everything_in_dependency_order(sandbox):
    run = sandbox.run(apply=True)

    assert run.ok, [r.message for r in run.results if not r.ok]
    order = [r.node for r in run.results]
    assert order.index(ks("infrastructure")) < order.index(ks("app-1"))
    assert order.index(ks("infrastructure")) < order.index(ks("app-2"))
    deployment = sandbox.client.get("apps/v1", "Deployment", "app-1", "app-1")
    assert deployment["spec"]["replicas"] == 2  # `${replicas}` substituted and re-typed
    labels = deployment["metadata"]["labels"]
    assert labels["kustomize.toolkit.fluxcd.io/name"] == "app-1"
    assert labels["kustomize.toolkit.fluxcd.io/namespace"] == "flux-system"
    managers = {(m["manager"], m["operation"]) for m in deployment["metadata"]["managedFields"]}
    assert ("kustomize-controller", "Apply") in managers
    # The cluster-vars ConfigMap (infrastructure) was applied before app-1 read nothing from it:
    # the value came from the repository, and the live object exists now.
    assert sandbox.client.get("v1", "ConfigMap", "cluster-vars", "flux-system") is not None


def test_second_run_plans_no_change_and_writes_only_its_inventory(sandbox):
    sandbox.run(apply=True)
    sandbox.sim.requests.clear()

    plan = sandbox.run(apply=False)
    assert not plan.plan.has_changes
    assert sandbox.writes() == []

    again = sandbox.run(apply=True)
    assert again.ok
    written = sandbox.writes()
    assert written, "the inventories record the new attempt"
    assert all("fluxpush-inventory-" in w for w in written), written


def test_a_first_apply_reads_no_namespace_it_wrote(sandbox):
    """A new Namespace is Active in the answer to its apply (as on a real API server, which sets the
    phase on create), so the stage does not poll it after writing it; and the inventory's namespace
    is only created when the inventory write is refused for lacking it, never read before each write."""
    sandbox.sim.requests.clear()

    run = sandbox.run(apply=True)

    assert run.ok, [r.message for r in run.results if not r.ok]
    # Nodes with `wait: true` poll every object once all are applied, as Flux does; app-2 does not.
    written = {f"/api/v1/namespaces/{obj['metadata']['name']}" for node in sandbox.discover().nodes.values()
               if not getattr(node.spec, "wait", True) for obj in node.objects if obj["kind"] == "Namespace"}
    assert "/api/v1/namespaces/app-2" in written
    log = sandbox.sim.requests.entries()
    for path in written:
        wrote = next(i for i, r in enumerate(log) if r.method == "PATCH" and r.path == path
                     and r.query.get("dryRun") != "All")
        assert [r.method for r in log[wrote + 1:] if r.path == path and r.method == "GET"] == [], path
    assert sandbox.client.get("v1", "Namespace", "app-2")["status"]["phase"] == "Active"


def test_an_inventory_in_a_missing_namespace_creates_that_namespace(sandbox):
    node = ObjectRef("Kustomization", "team-ops", "ops")
    record = InventoryRecord(node=node, last_attempted_revision="main@sha1:1")

    store_inventory(sandbox.client, record, FIELD_MANAGER)

    assert sandbox.client.get("v1", "Namespace", "team-ops") is not None
    assert sandbox.client.get("v1", "ConfigMap", inventory_name(node), "team-ops") is not None
    assert sandbox.writes()[-3:] == [
        f"PATCH /api/v1/namespaces/team-ops/configmaps/{inventory_name(node)}",
        "PATCH /api/v1/namespaces/team-ops",
        f"PATCH /api/v1/namespaces/team-ops/configmaps/{inventory_name(node)}",
    ]


@pytest.mark.parametrize("way", [PlanWay.SERVER, PlanWay.CLIENT])
def test_an_edited_overlay_plans_exactly_that_change(sandbox, way):
    sandbox.run(apply=True)
    sandbox.edit("apps/app-1/overlays/dev/kustomization.yaml", "LOG_LEVEL=debug", "LOG_LEVEL=info")

    plan = sandbox.run(apply=False, way=way)

    changes = _changes(plan, "app-1")
    # The generated ConfigMap's name hash changes: a new one is created, the Deployment follows it,
    # and the old one is pruned.
    created = [name for name, action in changes.items() if action is Action.CREATE]
    assert len(created) == 1 and created[0].startswith("ConfigMap/app-1/app-1-config-")
    assert changes["Deployment/app-1/app-1"] is Action.UPDATE
    deleted = [name for name, action in changes.items() if action is Action.DELETE]
    assert deleted == ["ConfigMap/app-1/app-1-config-75ht8fkkk2"]
    for other in ("infrastructure", "app-2", "flux-system"):
        assert _changes(plan, other) == {}


def test_an_object_removed_from_git_is_pruned_after_apply(sandbox):
    sandbox.run(apply=True)
    sandbox.edit("apps/app-1/base/kustomization.yaml", "  - service.yaml\n", "")

    run = sandbox.run(apply=True)

    assert run.ok
    assert sandbox.client.get("v1", "Service", "app-1", "app-1") is None
    result = next(r for r in run.results if r.node == ks("app-1"))
    assert [(str(c.id), c.action) for c in result.applied] == [("Service/app-1/app-1", Action.DELETE)]


def test_a_live_edit_is_drift_and_the_next_apply_reverts_it(sandbox):
    sandbox.run(apply=True)
    sandbox.client.apply({"apiVersion": "apps/v1", "kind": "Deployment",
                          "metadata": {"name": "app-2", "namespace": "app-2"}, "spec": {"replicas": 5}},
                         "kubectl-edit", force=True)

    plan = sandbox.run(apply=False)
    assert _changes(plan, "app-2") == {"Deployment/app-2/app-2": Action.UPDATE}
    node = next(n for n in plan.plan.nodes if n.node == ks("app-2"))
    drifted = next(c for c in node.changes if str(c.id) == "Deployment/app-2/app-2")
    assert any(path.startswith("spec.replicas") for path in drifted.changed_paths)
    assert "replicas: 5" in drifted.diff

    sandbox.run(apply=True)
    assert sandbox.client.get("apps/v1", "Deployment", "app-2", "app-2")["spec"]["replicas"] == 1


def test_a_failing_node_blocks_its_dependents_and_not_its_independents(sandbox):
    sandbox.run(apply=True)
    # An invalid object: the server refuses the dry run, so nothing of that stage is written.
    sandbox.edit("infrastructure/cloudwatch/daemonset.yaml", "name: cloudwatch-agent\n",
                 "name: Cloudwatch_Agent\n")

    run = sandbox.run(apply=True)

    outcomes = {r.node: r for r in run.results}
    assert outcomes[ks("infrastructure")].outcome is Outcome.FAILED
    assert "Cloudwatch_Agent" in outcomes[ks("infrastructure")].message
    assert outcomes[ks("app-1")].outcome is Outcome.BLOCKED
    assert outcomes[ks("app-2")].outcome is Outcome.BLOCKED
    assert "dependency 'flux-system/infrastructure' is not ready" in outcomes[ks("app-1")].message
    assert outcomes[ks("flux-system")].outcome is Outcome.READY


def test_a_health_failure_names_the_object_and_the_reason(sandbox):
    sandbox.edit("apps/app-2/deployment.yaml", "  name: app-2\n",
                 "  name: app-2\n  annotations:\n    kubesim.io/fail: image pull back-off\n")

    run = sandbox.run(apply=True, timeout=5.0)

    result = next(r for r in run.results if r.node == ks("app-2"))
    assert result.outcome is Outcome.FAILED
    assert result.reason == "HealthCheckFailed"
    assert "Deployment/app-2/app-2" in result.message
    assert next(r for r in run.results if r.node == ks("app-1")).outcome is Outcome.READY


def test_client_and_server_way_plans_agree_on_a_fresh_and_an_applied_cluster(sandbox):
    def summary(way):
        return {n.node: sorted((str(c.id), c.action) for c in (*n.changes, *n.prune))
                for n in sandbox.run(apply=False, way=way).plan.nodes}

    assert summary(PlanWay.CLIENT) == summary(PlanWay.SERVER)
    sandbox.run(apply=True)
    assert summary(PlanWay.CLIENT) == summary(PlanWay.SERVER)


def test_an_immutable_field_change_is_refused_unless_force_allows_a_recreate(sandbox):
    sandbox.run(apply=True)
    before = sandbox.client.get("apps/v1", "Deployment", "app-2", "app-2")["metadata"]["uid"]
    sandbox.edit("apps/app-2/deployment.yaml", "    matchLabels:\n      app.kubernetes.io/name: app-2\n",
                 "    matchLabels:\n      app.kubernetes.io/name: app-2\n      tier: web\n")
    sandbox.edit("apps/app-2/deployment.yaml", "      labels:\n        app.kubernetes.io/name: app-2\n",
                 "      labels:\n        app.kubernetes.io/name: app-2\n        tier: web\n")

    refused = next(r for r in sandbox.run(apply=True).results if r.node == ks("app-2"))
    assert refused.outcome is Outcome.FAILED
    assert "field is immutable" in refused.message
    assert sandbox.client.get("apps/v1", "Deployment", "app-2", "app-2")["metadata"]["uid"] == before

    # the preview decides as the apply does: refused without force, a recreate with it
    unforced_plan = next(n for n in sandbox.run(apply=False).plan.nodes if n.node == ks("app-2"))
    assert "field is immutable" in unforced_plan.error
    forced_plan = next(n for n in sandbox.run(apply=False, force=True).plan.nodes if n.node == ks("app-2"))
    assert forced_plan.error == ""
    recreate = next(c for c in forced_plan.changes if c.id.kind == "Deployment")
    assert recreate.action is Action.UPDATE and recreate.reason.startswith("would be recreated")

    forced = next(r for r in sandbox.run(apply=True, force=True).results if r.node == ks("app-2"))
    assert forced.outcome is Outcome.READY, forced.message
    assert [c.reason for c in forced.applied] == ["recreated: immutable field changed"]
    live = sandbox.client.get("apps/v1", "Deployment", "app-2", "app-2")
    assert live["metadata"]["uid"] != before
    assert live["spec"]["selector"]["matchLabels"]["tier"] == "web"
