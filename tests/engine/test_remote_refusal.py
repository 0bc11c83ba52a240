"""A node with spec.kubeConfig targets another cluster (issue 13 item 5): it never touches the
current cluster. When that cluster cannot be reached (here: its kubeconfig Secret is missing),
fluxpush fails it, naming the field, in plan and apply; independent nodes go on."""

from __future__ import annotations

import pytest

from fluxpush.flux.model import ObjectRef
from fluxpush.planning.result import Outcome

pytestmark = pytest.mark.integration
APP_1 = ObjectRef("Kustomization", "flux-system", "app-1")
APP_2 = ObjectRef("Kustomization", "flux-system", "app-2")
REMOTE = ("  prune: true\n  wait: true\n  timeout: 3m\n"
          "  kubeConfig:\n    secretRef:\n      name: spoke-kubeconfig\n")


def _targets_spoke(sandbox):
    sandbox.edit("clusters/dev/apps.yaml", "  prune: true\n  wait: true\n  timeout: 3m\n", REMOTE)


def test_apply_never_writes_a_remote_node_to_this_cluster(sandbox):
    _targets_spoke(sandbox)
    sandbox.sim.requests.clear()

    run = sandbox.run(apply=True)

    result = next(r for r in run.results if r.node == APP_1)
    assert result.outcome is Outcome.FAILED
    assert "spec.kubeConfig targets another cluster (Secret/flux-system/spoke-kubeconfig)" in result.message
    assert "the Secret does not exist in the current cluster" in result.message
    app_1_paths = [w for w in sandbox.writes() if "app-1" in w]
    assert app_1_paths == []  # no object, no inventory of app-1 was written here
    assert next(r for r in run.results if r.node == APP_2).outcome is Outcome.READY


def test_plan_fails_the_remote_node_instead_of_diffing_the_wrong_cluster(sandbox):
    _targets_spoke(sandbox)

    run = sandbox.run(apply=False)

    plan = next(p for p in run.plan.nodes if p.node == APP_1)
    assert "spec.kubeConfig" in plan.error
    assert not run.ok
