"""postBuild.substituteFrom sources that the repository does not render are read from the live
cluster (a ConfigMap another controller or a person created), as kustomize-controller reads them;
a missing non-optional source fails that node with the name of what is missing.
"""

from __future__ import annotations

import pytest

from fluxpush.app.lookups import live_variable_lookup
from fluxpush.flux.model import ObjectRef
from fluxpush.repository.discover import DiscoverOptions, discover

pytestmark = pytest.mark.integration
APP_1 = ObjectRef("Kustomization", "flux-system", "app-1")


def _discover_live(sandbox):
    options = DiscoverOptions(cluster_path="clusters/dev", live_lookup=live_variable_lookup(sandbox.client))
    return discover(sandbox.repo, options)


def _container_env(node) -> dict[str, str]:
    deployment = next(o for o in node.objects if o["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def test_a_substitute_from_configmap_only_in_the_cluster_is_read_from_it(sandbox):
    sandbox.edit("clusters/dev/apps.yaml", "        name: cluster-vars\n", "        name: live-vars\n")
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}
    sandbox.client.apply(namespace, "test")
    sandbox.client.apply({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "live-vars", "namespace": "flux-system"},
                          "data": {"cluster_name": "live-cluster", "region": "ap-south-2"}},
                         "other-controller")

    node = _discover_live(sandbox).nodes[APP_1]

    assert node.error is None, node.error
    assert "ap-south-2" in _container_env(node).values()
    configmap = next(o for o in node.objects if o["kind"] == "ConfigMap")
    assert configmap["data"]["CLUSTER_NAME"] == "live-cluster"


def test_a_missing_substitute_from_source_fails_the_node_naming_it(sandbox):
    sandbox.edit("clusters/dev/apps.yaml", "        name: cluster-vars\n", "        name: live-vars\n")

    discovery = _discover_live(sandbox)

    error = str(discovery.nodes[APP_1].error)
    assert "substitute from 'ConfigMap/live-vars'" in error
    assert "neither rendered by this repository nor in the cluster" in error
    assert discovery.nodes[ObjectRef("Kustomization", "flux-system", "app-2")].error is None
