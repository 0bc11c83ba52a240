"""A substituteFrom Secret that only the cluster holds (the shape of onedr0p/home-ops, where an
ExternalSecret makes `cloudflare-tunnel-id-secret`): without a cluster the node fails saying that
no cluster was given to read it from, not only that the repository lacks it."""

from __future__ import annotations

from fluxpush.flux.model import ObjectRef
from fluxpush.repository.discover import DiscoverOptions, discover
from realrepos.layouts import kustomization, namespace, write_tree

SUBSTITUTE_FROM = "  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: tunnel-id\n"


def test_a_secret_only_the_cluster_holds_is_named_with_the_missing_cluster(tmp_path):
    repo = write_tree(tmp_path / "repo", {
        "clusters/dev/tunnel.yaml": kustomization("tunnel", "./apps/tunnel", extra=SUBSTITUTE_FROM),
        "apps/tunnel/ns.yaml": namespace("network"),
    })
    discovery = discover(repo, DiscoverOptions(cluster_path="clusters/dev"))

    error = str(discovery.nodes[ObjectRef("Kustomization", "flux-system", "tunnel")].error)
    assert "'Secret/tunnel-id'" in error
    assert "no cluster was given to read it from" in error
