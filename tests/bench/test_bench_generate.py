"""The benchmark repository generator: shape of the files, the dependsOn DAG, object counts, and
(with real kustomize) what discovery renders from it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from bench.generate import (
    CLUSTER_PATH,
    EDITED_KEY,
    KINDS,
    RepoSpec,
    edit_one_object,
    edited_file,
    generate_repo,
    node_name,
    node_namespace,
    node_objects,
    parse_size,
)

from fluxpush.repository.discover import DiscoverOptions, discover


def _kustomizations(root: Path) -> dict[str, list[str]]:
    """name → names it dependsOn, read back from the generated cluster path."""
    docs = yaml.safe_load_all((root / CLUSTER_PATH / "nodes.yaml").read_text())
    return {d["metadata"]["name"]: [dep["name"] for dep in d["spec"].get("dependsOn", [])] for d in docs}


def _longest_chain(deps: dict[str, list[str]]) -> int:
    memo: dict[str, int] = {}

    def depth(name: str) -> int:
        if name not in memo:
            memo[name] = 1 + max((depth(dep) for dep in deps[name]), default=0)
        return memo[name]

    return max(depth(name) for name in deps)


def test_parse_size_reads_nodes_objects_and_an_optional_depth():
    assert parse_size("10x20") == RepoSpec(10, 20, 5)
    assert parse_size("3x4") == RepoSpec(3, 4, 3)
    assert parse_size("200x25x8") == RepoSpec(200, 25, 8)
    for bad in ("10", "10x", "ax5", "3x4x9"):
        with pytest.raises(ValueError):
            parse_size(bad)


@pytest.mark.parametrize("size", ["1x3", "7x9x3", "50x2x5", "12x4x12"])
def test_dependson_dag_has_exactly_the_requested_depth(tmp_path, size):
    spec = parse_size(size)
    deps = _kustomizations(generate_repo(tmp_path, spec))
    assert sorted(deps) == [node_name(i) for i in range(spec.nodes)]
    assert _longest_chain(deps) == spec.depth
    assert all(len(d) <= 2 for d in deps.values())
    assert sum(1 for d in deps.values() if not d) >= 1


def test_every_node_has_a_base_of_m_objects_and_an_overlay(tmp_path):
    spec = RepoSpec(nodes=3, objects=11, depth=2)
    root = generate_repo(tmp_path, spec)
    for node in range(spec.nodes):
        base = root / "apps" / node_name(node) / "base"
        listed = yaml.safe_load((base / "kustomization.yaml").read_text())["resources"]
        assert len(listed) == spec.objects
        assert all((base / file).is_file() for file in listed)
        overlay_file = root / "apps" / node_name(node) / "overlays" / "bench" / "kustomization.yaml"
        overlay = yaml.safe_load(overlay_file.read_text())
        assert overlay["resources"] == ["../../base"]
        assert overlay["namespace"] == node_namespace(node)
        assert overlay["patches"][0]["target"] == {"kind": "Deployment"}


def test_objects_start_with_the_namespace_and_mix_every_kind():
    objects = node_objects(4, RepoSpec(5, 1 + 2 * len(KINDS), 1))
    assert objects[0] == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": node_namespace(4)}}
    assert Counter(o["kind"] for o in objects[1:]) == {kind: 2 for kind in KINDS}
    assert len({o["metadata"]["name"] for o in objects}) == len(objects)


def test_generating_twice_into_one_folder_is_refused(tmp_path):
    generate_repo(tmp_path, RepoSpec(1, 2, 1))
    with pytest.raises(FileExistsError):
        generate_repo(tmp_path, RepoSpec(1, 2, 1))


def test_edit_one_object_changes_a_single_file(tmp_path):
    spec = RepoSpec(5, 4, 2)
    root = generate_repo(tmp_path, spec)
    before = {p: p.read_text() for p in root.rglob("*.yaml")}
    namespace, name = edit_one_object(root, spec, "v2")
    changed = [p for p, text in before.items() if p.read_text() != text]
    assert changed == [edited_file(root, spec)]
    (obj,) = yaml.safe_load_all(changed[0].read_text())
    assert (namespace, name, obj["data"][EDITED_KEY]) == (node_namespace(2), "configmap-001", "v2")


@pytest.mark.integration
def test_discovery_renders_every_object_with_overlay_and_substitution(tmp_path):
    spec = RepoSpec(nodes=4, objects=9, depth=3)
    discovery = discover(generate_repo(tmp_path, spec), DiscoverOptions(cluster_path=CLUSTER_PATH))
    assert discovery.problems == []
    nodes = {ref.name: node for ref, node in discovery.nodes.items()}
    assert sorted(nodes) == sorted(["flux-system", *(node_name(i) for i in range(spec.nodes))])
    for index in range(spec.nodes):
        objects = nodes[node_name(index)].objects
        assert len(objects) == spec.objects
        text = yaml.safe_dump_all(objects)
        assert "${" not in text  # every variable substituted (inline and from the bench-vars ConfigMap)
        assert all(o["metadata"].get("namespace") == node_namespace(index) for o in objects[1:])
        assert all(o["metadata"]["labels"]["bench.fluxpush.io/node"] == node_name(index) for o in objects)
        deployment = next(o for o in objects if o["kind"] == "Deployment")
        template = deployment["spec"]["template"]
        assert template["metadata"]["annotations"] == {"bench.fluxpush.io/overlay": "bench"}
        image = template["spec"]["containers"][0]["image"]
        assert image == f"registry.example.invalid/bench/app-{index:03d}:1.{index}.0"
    assert len(discovery.graph.order()) == spec.nodes + 1


def test_render_rounds_report_the_middle_one_by_time():
    from bench.scenarios import _median

    assert _median([3.0, 1.0, 2.0], key=float) == 2.0
    assert _median([4.0, 1.0, 3.0, 2.0], key=float) == 2.0, "the lower middle of an even count"
