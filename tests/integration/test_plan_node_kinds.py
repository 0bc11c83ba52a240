"""`plan_node` on either kind of node: found by mypy (it read `.prune` from whatever spec it got).

Behaviour matched: only a Kustomization has `spec.prune` (kustomize-controller's garbage collection);
a HelmRelease's objects are removed by helm-controller's uninstall, never by a prune of its own.
"""

from __future__ import annotations

import pytest

from fluxpush.discover import Node
from fluxpush.engine.live import LiveIndex
from fluxpush.engine.options import EngineOptions
from fluxpush.engine.plan import Action
from fluxpush.engine.reconcile import plan_node
from fluxpush.flux.model import HelmRelease

pytestmark = pytest.mark.integration


def test_a_helmrelease_node_is_planned_without_a_prune(sandbox):
    release = next(n for n in sandbox.discover().nodes.values() if isinstance(n.spec, HelmRelease))
    config = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "typed", "namespace": "default"}, "data": {"a": "b"}}
    node = Node(release.ref, release.spec, release.parent, objects=[config])

    plan = plan_node(node, "main@sha1:0", LiveIndex(sandbox.client), EngineOptions(prune=True), None)

    assert [(c.action, str(c.id)) for c in plan.changes] == [(Action.CREATE, "ConfigMap/default/typed")]
    assert plan.prune == ()
    assert sandbox.writes() == [], "planning writes nothing"
