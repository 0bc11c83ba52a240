"""Discovery and build of examples/gitops-platform with the real kustomize binary."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import yaml

from fluxpush.flux.model import ObjectRef
from fluxpush.repository.discover import DiscoverOptions, discover
from fluxpush.yamldoc import field_steps

pytestmark = pytest.mark.integration


def ks(name: str) -> ObjectRef:
    return ObjectRef("Kustomization", "flux-system", name)


@pytest.fixture(scope="module")
def discovery(example_repo):
    return discover(example_repo, DiscoverOptions(cluster_path="clusters/dev"))


def objects_of(discovery, name):
    return {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
        for o in discovery.nodes[ks(name)].objects
    }


def test_root_is_the_bootstrap_kustomization_and_graph_is_ordered(discovery):
    assert discovery.root == ks("flux-system")
    assert discovery.problems == []
    hr = ObjectRef("HelmRelease", "external-secrets", "external-secrets")
    assert set(discovery.nodes) == {ks("flux-system"), ks("infrastructure"), ks("app-1"), ks("app-2"), hr}
    assert discovery.graph.layers == (
        (hr, ks("flux-system"), ks("infrastructure")),
        (ks("app-1"), ks("app-2")),
    )
    assert discovery.nodes[ks("app-1")].parent == ks("flux-system")
    assert discovery.nodes[hr].parent == ks("infrastructure")


def test_flux_objects_are_interpreted_not_emitted(discovery):
    for node in discovery.nodes.values():
        assert not any(o["apiVersion"].split("/")[0].endswith(".toolkit.fluxcd.io") for o in node.objects)
    kinds = {ref.kind for ref in discovery.flux_objects}
    assert {"GitRepository", "HelmRepository", "Provider", "Alert", "ImageRepository", "ImagePolicy"} <= kinds


def test_substitution_from_rendered_configmap_and_retyping(discovery):
    deployment = objects_of(discovery, "app-1")[("Deployment", "app-1", "app-1")]
    assert deployment["spec"]["replicas"] == 2  # "${replicas}" with "2" → re-typed to an int
    env = {e["name"]: e["value"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["CLUSTER_ENV"] == "dev"
    assert env["AWS_REGION"] == "us-east-1"  # from the cluster-vars ConfigMap of infrastructure
    labels = deployment["metadata"]["labels"]
    assert labels["kustomize.toolkit.fluxcd.io/name"] == "app-1"
    assert labels["kustomize.toolkit.fluxcd.io/namespace"] == "flux-system"


def test_generated_kustomization_with_target_namespace(discovery):
    objects = objects_of(discovery, "app-2")
    namespaced = [key for key in objects if key[0] != "Namespace"]
    assert namespaced and all(ns == "app-2" for _, ns, _ in namespaced)
    assert ("Deployment", "app-2", "app-2") in objects


def test_root_holds_only_non_flux_objects_of_the_cluster_path(discovery):
    kinds = sorted(key[0] for key in objects_of(discovery, "flux-system"))
    assert kinds == ["Namespace"]


def test_build_cli_stream_is_in_apply_order_with_headers(run_cli, example_repo):
    result = run_cli("build", "--repo", str(example_repo), "--path", "clusters/dev", "ks", "app-1")
    assert result.code == 0, result.err
    assert result.out.startswith(
        "# Kustomization/flux-system/app-1 (path ./apps/app-1/overlays/dev; "
        "dependsOn: flux-system/infrastructure)\n"
    )
    kinds = [d["kind"] for d in yaml.safe_load_all(result.out) if d]
    assert kinds[0] == "Namespace" and kinds.index("ServiceAccount") < kinds.index("Deployment")


def test_get_ks_json_lists_graph(run_cli, example_repo):
    result = run_cli("get", "ks", "--repo", str(example_repo), "--path", "clusters/dev", "-o", "json")
    assert result.code == 0, result.err
    rows = {row["name"]: row for row in json.loads(result.out)}
    assert rows["app-1"]["dependsOn"] == ["flux-system/infrastructure"]
    assert rows["app-1"]["layer"] == 1 and rows["infrastructure"]["layer"] == 0
    assert rows["app-2"]["targetNamespace"] == "app-2"


def test_validate_example_is_clean(run_cli, example_repo):
    result = run_cli("validate", "--repo", str(example_repo), "--path", "clusters/dev")
    assert result.code == 0, result.out
    assert "no problems found in 5 nodes" in result.out


def test_tree_shows_children(run_cli, example_repo):
    result = run_cli("tree", "ks", "flux-system", "--repo", str(example_repo), "--path", "clusters/dev")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "Kustomization/flux-system/flux-system"
    assert "├── Kustomization/flux-system/app-1" in lines
    assert any(
        line.strip().startswith("└── HelmRelease/external-secrets/external-secrets")
        or line.strip().startswith("├── HelmRelease/external-secrets/external-secrets")
        for line in lines
    )


def test_discovery_leaves_the_checkout_byte_identical(tmp_path, example_repo):
    """Builds read a tree of hard links to the checkout, and write only new files in their views
    (generated and merged kustomization files, as for app-2's targetNamespace), never through a link."""
    repo = tmp_path / "repo"
    shutil.copytree(example_repo, repo)

    def snapshot():
        return {p.relative_to(repo).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(repo.rglob("*")) if p.is_file()}

    before = snapshot()
    discovery = discover(repo, DiscoverOptions(cluster_path="clusters/dev"))
    assert discovery.problems == []
    assert any(node.spec.raw.get("spec", {}).get("targetNamespace") for node in discovery.nodes.values())
    assert snapshot() == before


def test_a_rendered_object_is_located_in_the_file_it_came_from(discovery):
    """Server refusals name the file and the line of the field the server names."""
    deployment = objects_of(discovery, "app-2")[("Deployment", "app-2", "app-2")]
    where = discovery.locate(deployment, "spec.template.spec.containers[0].image", "./apps/app-2")
    assert str(where) == "apps/app-2/deployment.yaml:19"
    assert str(discovery.locate(deployment, "", "./apps/app-2")).startswith("apps/app-2/deployment.yaml")
    renamed = {**deployment, "metadata": {**deployment["metadata"], "name": "prefixed-app-2"}}
    assert discovery.locate(renamed, "spec.replicas", "./apps/app-2") is None  # a name kustomize changed


@pytest.mark.parametrize(("dotted", "steps"), [
    ("spec.replicas", ["spec", "replicas"]),
    ("spec.template.spec.containers[0].image", ["spec", "template", "spec", "containers", 0, "image"]),
    ("spec.ports[1]", ["spec", "ports", 1]),
    ("metadata.labels[app.kubernetes.io/name]", ["metadata", "labels", "app.kubernetes.io/name"]),
])
def test_field_steps_follow_the_api_servers_field_names(dotted, steps):
    assert field_steps(dotted) == steps
