"""Hostile repositories: every path a kustomize build reads must stay inside the source root.

Matches kustomize-controller's secure build (fluxcd/pkg kustomize/filesys `MakeFsOnDiskSecureBuild`):
a path that resolves outside the root, directly, by `..` or through a symlink, fails that
Kustomization's build with an error naming the kustomization file, the field and the path, while the
rest of the repository still builds. Runs the real kustomize binary through `discover`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fluxpush.errors import SourceError
from fluxpush.flux.model import ObjectRef
from fluxpush.repository.discover import DiscoverOptions, discover

pytestmark = pytest.mark.integration

CANARY = "CONFINE_CANARY_4711"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  k: v\n"
KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/{name}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
UP = "../" * 12

# field → the kustomization (YAML) that reads the outside file through it; `{out}` is the path.
HOSTILE = {
    "resources[0]": "resources:\n- {out}\n",
    "bases[0]": "bases:\n- {out_dir}\n",
    "components[0]": "resources: [cm.yaml]\ncomponents:\n- {out_dir}\n",
    "crds[0]": "resources: [cm.yaml]\ncrds:\n- {out}\n",
    "configurations[0]": "resources: [cm.yaml]\nconfigurations:\n- {out}\n",
    "openapi.path": "resources: [cm.yaml]\nopenapi:\n  path: {out}\n",
    "patches[0].path": "resources: [cm.yaml]\npatches:\n- path: {out}\n",
    "patchesStrategicMerge[0]": "resources: [cm.yaml]\npatchesStrategicMerge:\n- {out}\n",
    "patchesJson6902[0].path": ("resources: [cm.yaml]\npatchesJson6902:\n- target: {{kind: ConfigMap, "
                                "name: c}}\n  path: {out}\n"),
    "replacements[0].path": "resources: [cm.yaml]\nreplacements:\n- path: {out}\n",
    "configMapGenerator[0].files[0]": "configMapGenerator:\n- name: leak\n  files:\n  - environ={out}\n",
    "configMapGenerator[0].envs[0]": "configMapGenerator:\n- name: leak\n  envs:\n  - {out}\n",
    "secretGenerator[0].files[0]": "secretGenerator:\n- name: leak\n  files:\n  - {out}\n",
    "secretGenerator[0].env": "secretGenerator:\n- name: leak\n  env: {out}\n",
    "generators[0]": "resources: [cm.yaml]\ngenerators:\n- {out}\n",
    "transformers[0]": "resources: [cm.yaml]\ntransformers:\n- {out}\n",
    "validators[0]": "resources: [cm.yaml]\nvalidators:\n- {out}\n",
}


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_repo(root: Path, hostile: dict[str, str]) -> None:
    """A cluster path with a `good` app and one Kustomization per hostile kustomization text."""
    names = ["good", *hostile]
    write(root, "clusters/dev/kustomization.yaml",
          "resources:\n" + "".join(f"- {n}.yaml\n" for n in names))
    for name in names:
        write(root, f"clusters/dev/{name}.yaml", KS.format(name=name))
    write(root, "apps/good/kustomization.yaml", "resources: [cm.yaml]\n")
    write(root, "apps/good/cm.yaml", CM.format(name="good"))
    for name, text in hostile.items():
        write(root, f"apps/{name}/kustomization.yaml", text)
        write(root, f"apps/{name}/cm.yaml", CM.format(name=name))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the repository holding a canary file and a canary kustomization."""
    folder = tmp_path / "outside"
    write(folder, "secret.env", f"TOKEN={CANARY}\n")
    write(folder, "base/kustomization.yaml", "resources: [cm.yaml]\n")
    write(folder, "base/cm.yaml", CM.format(name=CANARY.lower().replace("_", "-")))
    return folder


def run(repo: Path, **options):
    return discover(repo, DiscoverOptions(cluster_path="clusters/dev", **options))


def ks(name: str) -> ObjectRef:
    return ObjectRef("Kustomization", "flux-system", name)


def _slug(field: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in field).strip("-").lower()


def assert_refused(discovery, name: str, field: str, path_text: str) -> None:
    error = discovery.nodes[ks(name)].error
    assert isinstance(error, SourceError), f"{name}: {error!r}"
    assert error.origin is not None and error.origin.path == f"apps/{name}/kustomization.yaml"
    assert error.field == field
    assert path_text in error.message
    assert discovery.nodes[ks(name)].objects == []


def assert_good_built(discovery) -> None:
    assert discovery.nodes[ks("good")].error is None
    assert [o["metadata"]["name"] for o in discovery.nodes[ks("good")].objects] == ["good"]


def assert_no_canary(discovery) -> None:
    assert CANARY not in repr([n.objects for n in discovery.nodes.values()])
    assert CANARY not in repr(discovery.problems)


@pytest.mark.parametrize("style", ["dotdot", "absolute"])
def test_every_field_is_confined(tmp_path, outside, style):
    repo = tmp_path / "repo"
    out = f"{UP}{outside}/secret.env" if style == "dotdot" else f"{outside}/secret.env"
    out_dir = f"{UP}{outside}/base" if style == "dotdot" else f"{outside}/base"
    hostile = {_slug(field): text.format(out=out, out_dir=out_dir) for field, text in HOSTILE.items()}
    make_repo(repo, hostile)
    discovery = run(repo)
    assert_good_built(discovery)
    for field, _ in HOSTILE.items():
        expected = out_dir if field.startswith(("bases", "components")) else out
        assert_refused(discovery, _slug(field), field, expected)
    assert_no_canary(discovery)


def test_proc_self_environ_is_refused_and_never_read(tmp_path, monkeypatch):
    # The reproduction: a configMapGenerator reading the process environment.
    monkeypatch.setenv("MY_SECRET_TOKEN", CANARY)
    repo = tmp_path / "repo"
    make_repo(repo, {"leak": f"configMapGenerator:\n- name: env-leak\n  files:\n"
                             f"  - environ={UP}proc/self/environ\n"})
    discovery = run(repo)
    assert_good_built(discovery)
    assert_refused(discovery, "leak", "configMapGenerator[0].files[0]", "proc/self/environ")
    assert "leaves the source root" in str(discovery.nodes[ks("leak")].error)
    assert_no_canary(discovery)


def test_a_nested_base_is_checked_too(tmp_path, outside):
    # The hostile path sits two kustomizations below the one Flux builds, in a component.
    repo = tmp_path / "repo"
    make_repo(repo, {"nested": "resources: [../../shared/base]\n"})
    write(repo, "shared/base/kustomization.yaml", "resources: [cm.yaml]\ncomponents: [../comp]\n")
    write(repo, "shared/base/cm.yaml", CM.format(name="nested"))
    write(repo, "shared/comp/kustomization.yaml",
          f"apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
          f"configMapGenerator:\n- name: x\n  files: [{UP}{outside}/secret.env]\n")
    discovery = run(repo)
    error = discovery.nodes[ks("nested")].error
    assert isinstance(error, SourceError)
    assert error.origin.path == "shared/comp/kustomization.yaml"
    assert error.field == "configMapGenerator[0].files[0]"
    assert_good_built(discovery)
    assert_no_canary(discovery)


@pytest.mark.parametrize("link_at", ["file", "directory"])
def test_a_symlink_leaving_the_root_is_refused(tmp_path, outside, link_at):
    repo = tmp_path / "repo"
    if link_at == "file":
        make_repo(repo, {"linked": "resources: [cm.yaml]\nconfigMapGenerator:\n- name: x\n"
                                   "  files: [leak.env]\n"})
        os.symlink(outside / "secret.env", repo / "apps/linked/leak.env")
        named = "apps/linked/leak.env"
    else:
        make_repo(repo, {"linked": "resources: [../../vendor/base]\n"})
        (repo / "vendor").mkdir()
        os.symlink(outside / "base", repo / "vendor/base")
        named = "vendor/base"
    discovery = run(repo)
    assert_refused(discovery, "linked", "configMapGenerator[0].files[0]" if link_at == "file"
                   else "resources[0]", named.rsplit("/", 1)[-1])
    assert f"symlink {named}" in str(discovery.nodes[ks("linked")].error)
    assert_good_built(discovery)
    assert_no_canary(discovery)


def test_paths_inside_the_root_still_work(tmp_path):
    # `..` that stays inside, an in-root symlink, generator files and patches: all build as before.
    repo = tmp_path / "repo"
    make_repo(repo, {"fine": "resources: [../../shared]\nconfigMapGenerator:\n- name: gen\n"
                             "  files: [conf=../../shared/conf.txt]\npatches:\n- path: patch.yaml\n"})
    write(repo, "shared/kustomization.yaml", "resources: [cm.yaml]\n")
    write(repo, "shared/cm.yaml", CM.format(name="shared"))
    write(repo, "shared/conf.txt", "hello")
    write(repo, "apps/fine/patch.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n"
                                        "  namespace: default\ndata:\n  patched: 'yes'\n")
    os.symlink("../../shared/conf.txt", repo / "apps/fine/linked.txt")
    discovery = run(repo)
    assert discovery.nodes[ks("fine")].error is None
    names = sorted(o["metadata"]["name"] for o in discovery.nodes[ks("fine")].objects)
    assert names[1] == "shared" and names[0].startswith("gen-")


def test_helm_inflation_is_refused(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo, {"helm": "helmCharts:\n- name: x\n  repo: https://example.com\n  valuesFile: "
                             f"{UP}etc/passwd\n"})
    discovery = run(repo)
    assert_refused(discovery, "helm", "helmCharts", "")
    assert "Helm chart inflation is not enabled" in str(discovery.nodes[ks("helm")].error)


def test_remote_bases_follow_flux_default_and_the_switch(tmp_path):
    remote = "https://github.com/example/repo//deploy?ref=v1.0.0"
    repo = tmp_path / "repo"
    make_repo(repo, {"remote": f"resources:\n- {remote}\n", "local": "resources: [file:///etc]\n"})
    refused = run(repo, no_remote_bases=True)
    assert_refused(refused, "remote", "resources[0]", remote)
    assert "--no-remote-bases" in str(refused.nodes[ks("remote")].error)
    assert_refused(refused, "local", "resources[0]", "file:///etc")
    # Allowed by default (as in Flux): kustomize itself tries the fetch, so the error, if any,
    # is kustomize's, not the confinement's.
    allowed = run(repo)
    assert not isinstance(allowed.nodes[ks("remote")].error, SourceError)
    assert_refused(allowed, "local", "resources[0]", "file:///etc")
    assert_good_built(allowed)


def test_an_entry_that_looks_remote_but_leaves_the_root_is_refused(tmp_path, outside):
    # kustomize reads any entry as a local file first: `example.com/../../..` is a path.
    repo = tmp_path / "repo"
    sneaky = f"example.com/{UP}{outside}/secret.env"
    make_repo(repo, {"sneaky": f"resources:\n- {sneaky}\n"})
    discovery = run(repo)
    assert_refused(discovery, "sneaky", "resources[0]", sneaky)
    assert "leaves the source root" in str(discovery.nodes[ks("sneaky")].error)
    assert_no_canary(discovery)


def test_http_files_in_any_field_follow_the_remote_switch(tmp_path):
    url = "https://example.com/patch.yaml"
    repo = tmp_path / "repo"
    make_repo(repo, {"fetch": f"resources: [cm.yaml]\npatches:\n- path: {url}\n"})
    assert_refused(run(repo, no_remote_bases=True), "fetch", "patches[0].path", url)
    assert not isinstance(run(repo).nodes[ks("fetch")].error, SourceError)
