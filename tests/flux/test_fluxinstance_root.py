"""A FluxInstance defines the root as Flux Operator's sync does (issue 15.3): the generated
Kustomization (named after the namespace, `spec.sync.path`, prune) with `spec.kustomize.patches`
that target it (JSON 6902 and strategic merge) — here adding SOPS decryption and postBuild
variables, the way Flux Operator home-lab repositories configure their root. ResourceSets are
noticed as not expanded."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxpush.errors import InputError
from fluxpush.flux.model import Kustomization, ObjectRef
from fluxpush.repository.discover import DiscoverOptions, discover
from fluxpush.sops.keys import KeyRing, parse_age_identities
from fluxpush.sops.keysource import SopsKeys

INSTANCE = """apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: "2.x"
    registry: ghcr.io/fluxcd
  sync:
    kind: GitRepository
    url: https://github.com/example-org/home-ops
    ref: refs/heads/main
    path: clusters/home
  kustomize:
    patches:
      - target:
          kind: Deployment
        patch: |
          - op: add
            path: /spec/template/spec/nodeSelector
            value: {role: control}
      - target:
          kind: Kustomization
          name: flux-system
        patch: |
          - op: add
            path: /spec/decryption
            value:
              provider: sops
      - target:
          kind: Kustomization
        patch: |
          apiVersion: kustomize.toolkit.fluxcd.io/v1
          kind: Kustomization
          metadata:
            name: not-used
          spec:
            postBuild:
              substitute:
                CLUSTER: home
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: apps
  namespace: flux-system
spec:
  resources: []
"""
CONFIG = """apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-settings
  namespace: flux-system
data:
  name: ${CLUSTER}
"""
SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: root-secret
  namespace: flux-system
stringData:
  token: root-token
"""
ROOT = ObjectRef("Kustomization", "flux-system", "flux-system")


@pytest.fixture
def home(tmp_path: Path, sops_or_skip, age_key) -> Path:
    root = tmp_path / "home"
    (root / "clusters/home/flux-system").mkdir(parents=True)
    (root / "clusters/home/flux-system/flux-instance.yaml").write_text(INSTANCE)
    (root / "clusters/home/settings.yaml").write_text(CONFIG)
    (root / "clusters/home/secret.sops.yaml").write_bytes(
        sops_or_skip("secret.sops.yaml", SECRET, "--age", age_key.public,
                     "--encrypted-regex", "^stringData$"))
    return root


def test_the_flux_instance_sync_is_the_root_with_its_patches(home, age_key):
    ring = KeyRing(age=parse_age_identities(age_key.secret, where="k"), sources=["k"])
    discovery = discover(home, DiscoverOptions(cluster_path="clusters/home", sops=SopsKeys(ring)))

    assert discovery.root == ROOT
    root = discovery.nodes[ROOT]
    assert root.error is None, root.error
    assert isinstance(root.spec, Kustomization) and root.spec.decryption == {"provider": "sops"}
    objects = {o["metadata"]["name"]: o for o in root.objects}
    assert objects["cluster-settings"]["data"] == {"name": "home"}  # postBuild from the merge patch
    assert objects["root-secret"]["stringData"] == {"token": "root-token"}  # decrypted
    assert "FluxInstance" not in {o["kind"] for o in root.objects}
    notices = [str(n) for n in discovery.notices]
    resource_set = "ResourceSet/flux-system/apps: not applicable in push mode"
    assert any(n.startswith(resource_set) and "not expanded" in n for n in notices)
    source = discovery.flux_objects[ObjectRef("GitRepository", "flux-system", "flux-system")]
    assert source.raw["spec"]["ref"] == {"branch": "main"}


def test_without_a_key_the_root_builds_with_the_secret_sealed(home):
    discovery = discover(home, DiscoverOptions(cluster_path="clusters/home"))

    root = discovery.nodes[ROOT]
    assert root.error is None, root.error
    assert [s.object for s in root.sealed] == ["Secret/flux-system/root-secret"]


def test_a_patch_that_does_not_apply_is_named(home):
    instance = home / "clusters/home/flux-system/flux-instance.yaml"
    instance.write_text(instance.read_text().replace("path: /spec/decryption", "path: /spec/x/0/y"))
    discovery = discover(home, DiscoverOptions(cluster_path="clusters/home"))
    assert any("does not apply to the sync Kustomization" in str(p) for p in discovery.problems)


def test_without_a_root_in_the_repository_the_root_config_file_gives_its_spec(home, age_key):
    (home / "clusters/home/flux-system/flux-instance.yaml").unlink()
    (home / ".fluxpush").mkdir()
    (home / ".fluxpush/root.yaml").write_text(
        "spec:\n  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n"
        "  postBuild:\n    substitute:\n      CLUSTER: from-file\n")
    ring = KeyRing(age=parse_age_identities(age_key.secret, where="k"), sources=["k"])

    discovery = discover(home, DiscoverOptions(cluster_path="clusters/home", sops=SopsKeys(ring)))

    root = discovery.nodes[ROOT]
    assert root.error is None, root.error
    assert root.spec.decryption == {"provider": "sops", "secretRef": {"name": "sops-age"}}
    objects = {o["metadata"]["name"]: o for o in root.objects}
    assert objects["cluster-settings"]["data"] == {"name": "from-file"}
    assert objects["root-secret"]["stringData"] == {"token": "root-token"}


@pytest.mark.parametrize(("content", "message"), [
    ("spec:\n  path: ./elsewhere\n", "spec.path cannot be set here"),
    ("decryption: {}\n", "expected one document with only a `spec:` mapping"),
    ("spec:\n  prune: maybe\n", "prune"),
])
def test_a_bad_root_config_file_is_named(home, content, message):
    (home / ".fluxpush").mkdir()
    (home / ".fluxpush/root.yaml").write_text(content)
    with pytest.raises(InputError) as caught:
        discover(home, DiscoverOptions(cluster_path="clusters/home"))
    assert message in str(caught.value) and ".fluxpush/root.yaml" in str(caught.value)
