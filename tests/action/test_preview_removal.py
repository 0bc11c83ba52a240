"""A Kustomization removed from Git, previewed on a pull request: its garbage collection is in the PR
comment before it happens (issue 13 item 2), with the deletions counted and the warning shown; when
the prune safety guard would refuse it, the preview fails and says so before the merge."""

from __future__ import annotations

import pytest

from fluxpush.app.reconcilers import default_reconcilers
from fluxpush.engine.run import run_nodes
from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.options import EngineOptions
from fluxpush.repository.discover import DiscoverOptions, discover

from .conftest import CLUSTER_PATH, REPO, pull_request_event

pytestmark = pytest.mark.integration


def test_a_removed_kustomization_shows_its_collection_and_the_guard_in_the_comment(
        checkout, github, run_action, cluster):
    sim, kubeconfig = cluster
    with KubeClient(connect_sandbox(sim)) as client:
        base = discover(checkout.root, DiscoverOptions(cluster_path=CLUSTER_PATH))
        assert run_nodes(base, client, EngineOptions(), apply=True, reconcilers=default_reconcilers()).ok
    apps = checkout.root / "clusters/dev/apps.yaml"
    text = apps.read_text()
    apps.write_text(text[: text.index("# app-2:")].rstrip().rstrip("-").rstrip() + "\n")
    head = checkout.commit("remove app-2")
    github.state.add_pull(REPO, 12, head_sha=head)
    sim.requests.clear()
    run_action.inputs["kubeconfig"] = kubeconfig.read_text()

    run = run_action("pull_request", pull_request_event(12, head, checkout.base_sha), checkout.root, head)

    assert run.code == 1, "the merge would fail to deploy: the guard refuses to delete Namespace/app-2"
    (comment,) = github.state.comments
    assert "| `Kustomization/flux-system/flux-system` | 0 | 0 | 5 |" in comment.body
    assert "apply will fail" in comment.body and "refusing to prune" in comment.body
    assert "fluxpush.io/allow-destructive-prune" in comment.body
    assert "Objects will be deleted or replaced" in comment.body
    assert "Kustomization/flux-system/app-2" in comment.body and "Namespace/app-2" in comment.body
    assert "removed from Git: delete its 4 object(s) (deletionPolicy MirrorPrune with spec.prune: true)" \
        in comment.body
    assert {r.method for r in sim.requests.entries()} == {"GET"}, "a preview writes nothing"
