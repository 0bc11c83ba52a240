"""Flux's generated kustomization, spec merge and the kustomize run, with the real binary."""

from pathlib import Path

import pytest

from fluxpush.errors import RenderError
from fluxpush.flux import parse_flux_object
from fluxpush.flux.model import Image
from fluxpush.render.kustomize import (
    BuildWorkspace,
    generate_resources,
    merge_images,
    merge_spec,
    prepare_build_dir,
    run_kustomize,
)
from fluxpush.tools import find_kustomize


def make_ks(**spec):
    data = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "demo", "namespace": "flux-system"},
            "spec": {"interval": "5m", "prune": True, "path": "./app",
                     "sourceRef": {"kind": "GitRepository", "name": "flux-system"}, **spec}}
    return parse_flux_object(data)


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


def test_generated_resources_follow_flux_walk(tmp_path):
    write(tmp_path, "b.yaml", CM.format(name="b"))
    write(tmp_path, "a/x.yml", CM.format(name="x"))
    write(tmp_path, "a/notes.txt", "ignored")
    write(tmp_path, "a/values.json", "{}")
    write(tmp_path, "c/kustomization.yaml", "resources: [cm.yaml]\n")
    write(tmp_path, "c/cm.yaml", CM.format(name="c"))
    write(tmp_path, "c/deeper/never.yaml", CM.format(name="never"))
    # Lexical depth-first order, .yaml/.yml only, a folder with a kustomization file is one entry.
    assert generate_resources(tmp_path) == ["./a/x.yml", "./b.yaml", "./c"]


def test_images_merge_field_wise_by_name():
    existing = [{"name": "app", "newName": "reg/app", "newTag": "1.0", "digest": "sha256:aa"},
                {"name": "other", "newTag": "2"}]
    merged = merge_images(existing, (Image("app", None, "1.1", None), Image("new", "reg/new", None, None)))
    # newTag replaces tag and digest together; newName is kept when not overridden.
    assert merged == [{"name": "app", "newName": "reg/app", "newTag": "1.1"},
                      {"name": "other", "newTag": "2"},
                      {"name": "new", "newName": "reg/new"}]


def test_merge_spec_overrides_and_appends(tmp_path):
    ks = make_ks(targetNamespace="team", namePrefix="p-", patches=[{"patch": "- op: remove\n  path: /x",
                                                                      "target": {"kind": "ConfigMap"}}],
                 components=["../comp"])
    merged = merge_spec({"namespace": "old", "namePrefix": "q-", "patches": [{"path": "own.yaml"}],
                         "components": ["./mine"]}, ks, tmp_path)
    assert merged["namespace"] == "team"
    assert merged["namePrefix"] == "p-"
    assert merged["patches"] == [{"path": "own.yaml"},
                                 {"patch": "- op: remove\n  path: /x", "target": {"kind": "ConfigMap"}}]
    assert merged["components"] == ["./mine", "../comp"]


def test_remote_component_refused(tmp_path):
    with pytest.raises(RenderError, match="must be local and relative"):
        merge_spec({}, make_ks(components=["https://example.com/comp"]), tmp_path)


@pytest.mark.integration
def test_build_in_view_never_touches_shared_tree(tmp_path):
    tree = tmp_path / "tree"
    write(tree, "app/cm.yaml", CM.format(name="one"))
    write(tree, "app/sub/cm.yaml", CM.format(name="two"))
    write(tree, "base/kustomization.yaml", "resources: [cm.yaml]\n")
    write(tree, "base/cm.yaml", CM.format(name="base"))
    write(tree, "overlay/kustomization.yaml", "resources: [../base]\nnamespace: from-file\n")
    (tmp_path / "views").mkdir()
    workspace = BuildWorkspace(tree, tmp_path / "views")
    tool = find_kustomize()

    generated = prepare_build_dir(make_ks(targetNamespace="gen"), workspace, "app")
    objects = run_kustomize(tool, generated, node="Kustomization/flux-system/demo")
    assert [(o["metadata"]["name"], o["metadata"]["namespace"]) for o in objects] == [
        ("one", "gen"), ("two", "gen")]
    assert not (tree / "app" / "kustomization.yaml").exists()

    merged = prepare_build_dir(make_ks(path="./overlay", targetNamespace="team"), workspace, "overlay")
    objects = run_kustomize(tool, merged, node="Kustomization/flux-system/demo")
    assert [(o["metadata"]["name"], o["metadata"]["namespace"]) for o in objects] == [("base", "team")]
    assert (tree / "overlay" / "kustomization.yaml").read_text().endswith("namespace: from-file\n")

    unchanged = prepare_build_dir(make_ks(path="./overlay"), workspace, "overlay")
    assert unchanged == tree / "overlay"


@pytest.mark.integration
def test_empty_folder_builds_to_nothing(tmp_path):
    tree = tmp_path / "tree"
    (tree / "empty").mkdir(parents=True)
    (tmp_path / "views").mkdir()
    build_dir = prepare_build_dir(make_ks(path="./empty"), BuildWorkspace(tree, tmp_path / "views"), "empty")
    assert run_kustomize(find_kustomize(), build_dir, node="n") == []


@pytest.mark.integration
def test_kustomize_failure_names_node_and_command(tmp_path):
    write(tmp_path, "bad/kustomization.yaml", "resources: [missing.yaml]\n")
    with pytest.raises(RenderError) as info:
        run_kustomize(find_kustomize(), tmp_path / "bad", node="Kustomization/flux-system/bad")
    text = str(info.value)
    assert text.startswith("Kustomization/flux-system/bad: kustomize build failed")
    assert "missing.yaml" in text
