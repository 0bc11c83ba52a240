"""ArtifactGenerator → ExternalArtifact built locally (issue 15.2), in the shape of Flux's own
flux2-kustomize-helm-example since Flux 2.7: a generator in the cluster path copies
`@monorepo/infrastructure/**` and `@monorepo/apps/{base,staging}/**` into artifacts, and
Kustomizations with `sourceRef.kind: ExternalArtifact` build from them. Copy rules follow
source-watcher's builder (Go fs.Glob per segment, `dir/**` keeps paths below dir, a folder copies
as `<to>/<name>`, excludes by doublestar on the path and the base name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxpush.errors import SourceError
from fluxpush.flux.model import ObjectRef
from fluxpush.repository.artifacts import CopyRule, OutputArtifact, build_artifact, excluded, go_glob
from fluxpush.repository.discover import DiscoverOptions, discover

SYNC = """apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  url: https://github.com/example-org/fleet
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/staging
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
GENERATOR = """apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: flux-system
  namespace: flux-system
spec:
  sources:
    - alias: monorepo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: infrastructure
      originRevision: "@monorepo"
      copy:
        - from: "@monorepo/infrastructure/**"
          to: "@artifact/"
          exclude: ["*.md"]
    - name: apps
      copy:
        - from: "@monorepo/apps/base/**"
          to: "@artifact/base/"
        - from: "@monorepo/apps/staging/**"
          to: "@artifact/staging/"
"""
KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 1h
  path: {path}
  prune: true
  sourceRef:
    kind: ExternalArtifact
    name: {artifact}
"""


def _cm(name: str, namespace: str = "default") -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\n"
            "data:\n  a: b\n")


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    root = tmp_path / "fleet"
    _write(root, {
        "clusters/staging/flux-system/gotk-sync.yaml": SYNC,
        "clusters/staging/flux-system/kustomization.yaml": "resources:\n  - gotk-sync.yaml\n",
        "clusters/staging/artifacts.yaml": GENERATOR,
        "clusters/staging/infrastructure.yaml":
            KS.format(name="infra-controllers", path="./controllers", artifact="infrastructure")
            + "---\n" + KS.format(name="infra-configs", path="./configs", artifact="infrastructure"),
        "clusters/staging/apps.yaml": KS.format(name="apps", path="./staging", artifact="apps"),
        "infrastructure/controllers/kustomization.yaml": "resources:\n  - cert-manager.yaml\n",
        "infrastructure/controllers/cert-manager.yaml": _cm("cert-manager"),
        "infrastructure/configs/kustomization.yaml": "resources:\n  - issuers.yaml\n",
        "infrastructure/configs/issuers.yaml": _cm("issuers"),
        "infrastructure/README.md": "not copied\n",
        "apps/base/podinfo/kustomization.yaml": "resources:\n  - podinfo.yaml\n",
        "apps/base/podinfo/podinfo.yaml": _cm("podinfo"),
        "apps/staging/kustomization.yaml":
            "resources:\n  - ../base/podinfo\npatches:\n  - path: podinfo-values.yaml\n",
        "apps/staging/podinfo-values.yaml":
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo\n  namespace: default\n"
            "data:\n  a: staging\n",
        "apps/production/kustomization.yaml": "resources:\n  - ../base/podinfo\n",
    })
    return root


def _node_objects(discovery, name: str) -> dict[str, dict]:
    node = discovery.nodes[ObjectRef("Kustomization", "flux-system", name)]
    assert node.error is None, node.error
    return {o["metadata"]["name"]: o for o in node.objects}


def test_kustomizations_build_from_locally_generated_artifacts(fleet):
    discovery = discover(fleet, DiscoverOptions(cluster_path="clusters/staging"))

    assert not discovery.problems, discovery.problems
    assert set(_node_objects(discovery, "infra-controllers")) == {"cert-manager"}
    assert set(_node_objects(discovery, "infra-configs")) == {"issuers"}
    assert _node_objects(discovery, "apps")["podinfo"]["data"] == {"a": "staging"}
    assert not any(o["kind"] == "ArtifactGenerator" for n in discovery.nodes.values() for o in n.objects)


def test_a_generator_whose_source_is_not_this_repository_says_which(fleet):
    generator = fleet / "clusters/staging/artifacts.yaml"
    generator.write_text(generator.read_text().replace("      name: flux-system\n", "      name: other\n", 1))

    discovery = discover(fleet, DiscoverOptions(cluster_path="clusters/staging"))

    error = str(discovery.nodes[ObjectRef("Kustomization", "flux-system", "apps")].error)
    assert "ExternalArtifact/flux-system/apps is produced by ArtifactGenerator/flux-system/flux-system" \
        in error
    assert "@monorepo (GitRepository/flux-system/other)" in error and "--source" in error


def test_a_copy_rule_matching_nothing_fails_the_kustomizations_of_that_artifact(fleet):
    generator = fleet / "clusters/staging/artifacts.yaml"
    text = generator.read_text()
    generator.write_text(text.replace("@monorepo/apps/staging/**", "@monorepo/apps/stage/**"))

    discovery = discover(fleet, DiscoverOptions(cluster_path="clusters/staging"))

    error = str(discovery.nodes[ObjectRef("Kustomization", "flux-system", "apps")].error)
    assert "no files match pattern 'apps/stage/**'" in error
    assert discovery.nodes[ObjectRef("Kustomization", "flux-system", "infra-configs")].error is None


def test_a_copy_rule_leaving_the_source_is_refused(fleet):
    generator = fleet / "clusters/staging/artifacts.yaml"
    generator.write_text(generator.read_text().replace("@monorepo/apps/base/**", "@monorepo/../../etc/**"))

    discovery = discover(fleet, DiscoverOptions(cluster_path="clusters/staging"))

    assert any("leaves the source or the artifact" in str(p) for p in discovery.problems)


# -- source-watcher's copy semantics, one by one --

def _rule(pattern: str, to: str, *exclude: str) -> CopyRule:
    return CopyRule("src", pattern, to, tuple(exclude), "Overwrite")


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_copy_semantics(tmp_path: Path):
    src = tmp_path / "src"
    _write(src, {"a/x.yaml": "x", "a/b/y.yaml": "y", "a/b/z.md": "z", "c.yaml": "c", "d/e.yaml": "e"})
    out = tmp_path / "out"
    artifact = OutputArtifact("t", (
        _rule("a/**", "one/", "*.md"),      # a/** = a/* in Go's fs.Glob; folders copy whole
        _rule("c.yaml", "single.yaml"),      # one file, renamed
        _rule("c.yaml", "into/"),            # one file into a folder
        _rule("d", "tree/"),                 # a folder copies as <to>/<name>
    ))
    build_artifact(artifact, {"src": src}, out, where="test")
    assert _files(out) == {"one/x.yaml", "one/b/y.yaml", "single.yaml", "into/c.yaml", "tree/d/e.yaml"}


def test_go_glob_and_exclude_matching(tmp_path: Path):
    _write(tmp_path, {"a/b/c.yaml": "", "a/d.yaml": "", "e.yaml": ""})
    assert go_glob(tmp_path, "a/*") == ["a/b", "a/d.yaml"]
    assert go_glob(tmp_path, "*/*/*.yaml") == ["a/b/c.yaml"]
    assert go_glob(tmp_path, "a/**") == ["a/b", "a/d.yaml"]  # ** is one segment in fs.Glob
    assert excluded("a/b/c.yaml", "a", ("b/**",))
    assert excluded("a/b/c.yaml", ".", ("**/c.yaml",))
    assert excluded("a/b/c.md", "a", ("*.md",))
    assert not excluded("a/b/c.yaml", "a", ("*.md",))


def test_missing_alias_is_named(tmp_path: Path):
    with pytest.raises(SourceError, match="source alias 'nope' not found"):
        build_artifact(OutputArtifact("t", (CopyRule("nope", "x", "", (), "Overwrite"),)), {}, tmp_path / "o",
                       where="g")
