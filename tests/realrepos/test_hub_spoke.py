"""Hub and spoke (the shape of fluxcd/flux2-hub-spoke-example): the hub's root renders a Namespace
per spoke, and each spoke's `tenants` Kustomization (`spec.kubeConfig.secretRef`) renders the same
Namespace and cluster-wide objects into its own cluster. Objects of different clusters are different
objects, as they are for kustomize-controller: no ownership conflict. Two nodes writing the same
object into the same cluster still conflict."""

from __future__ import annotations

from pathlib import Path

from fluxpush.repository.discover import DiscoverOptions, discover
from realrepos.layouts import kustomization, namespace, write_tree

SPOKE = "  kubeConfig:\n    secretRef:\n      name: cluster-kubeconfig\n"


def _spoke(name: str) -> str:
    return namespace(name) + "---\n" + kustomization("tenants", "./spokes/tenants", extra=SPOKE).replace(
        "namespace: flux-system\nspec:", f"namespace: {name}\nspec:", 1)


def _repo(root: Path, *, second_spoke_extra: str = SPOKE) -> Path:
    files = {
        "hub/staging.yaml": _spoke("staging"),
        "hub/production.yaml": _spoke("production").replace(SPOKE, second_spoke_extra),
        "spokes/tenants/ns.yaml": namespace("podinfo") + "---\n" + namespace("staging"),
    }
    return write_tree(root, files)


def test_spokes_render_the_same_objects_into_their_own_clusters_without_conflict(tmp_path):
    discovery = discover(_repo(tmp_path / "repo"), DiscoverOptions(cluster_path="hub"))

    assert discovery.problems == []
    assert all(node.error is None for node in discovery.nodes.values())
    assert {str(ref) for ref in discovery.nodes} == {
        "Kustomization/flux-system/flux-system", "Kustomization/staging/tenants",
        "Kustomization/production/tenants"}


def test_two_nodes_writing_one_object_into_the_same_cluster_still_conflict(tmp_path):
    discovery = discover(_repo(tmp_path / "repo", second_spoke_extra=""), DiscoverOptions(cluster_path="hub"))

    messages = [str(problem) for problem in discovery.problems]
    # production/tenants now targets the hub, where the root renders Namespace/staging too.
    assert any("Namespace/staging" in m and "Kustomization/production/tenants" in m
               and "Kustomization/flux-system/flux-system" in m for m in messages), messages
    assert not any("Kustomization/staging/tenants" in m for m in messages), messages
    failed = {str(ref) for ref, node in discovery.nodes.items() if node.error}
    assert "Kustomization/production/tenants" in failed
