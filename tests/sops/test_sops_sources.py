"""Encrypted generator inputs and patches decrypted before kustomize runs, as kustomize-controller's
DecryptSources does (secretGenerator files by the key's extension, envs as dotenv, patches by
extension), then encrypted Secret data values decrypted after the build (DecryptResource). Without
a key nothing encrypted or masked is left applicable: every such Secret is sealed."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from fluxpush.flux.model import ObjectRef
from fluxpush.repository.discover import DiscoverOptions, discover
from fluxpush.sops.keys import KeyRing, parse_age_identities
from fluxpush.sops.keysource import SopsKeys
from fluxpush.sops.sealed import is_sealed

APP = ObjectRef("Kustomization", "flux-system", "app")
KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
  namespace: flux-system
spec:
  interval: 10m
  path: ./app
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  decryption:
    provider: sops
"""
KUSTOMIZATION = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: default
resources:
  - base
generatorOptions:
  disableNameSuffixHash: true
secretGenerator:
  - name: gen
    envs:
      - db.env
    files:
      - config.json=cfg.json
      - token=token.txt
configMapGenerator:
  - name: plain
    literals:
      - a=b
patches:
  - path: patch.yaml
"""
BASE_SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: patched
stringData:
  user: base-user
"""
PATCH = """apiVersion: v1
kind: Secret
metadata:
  name: patched
stringData:
  password: patched-password
"""


@pytest.fixture
def repo(tmp_path: Path, sops_encrypt, age_key) -> Path:
    root = tmp_path / "repo"
    (root / "clusters/dev").mkdir(parents=True)
    (root / "clusters/dev/app.yaml").write_text(KS)
    app = root / "app"
    (app / "base").mkdir(parents=True)
    (app / "kustomization.yaml").write_text(KUSTOMIZATION)
    (app / "base/kustomization.yaml").write_text("resources:\n  - secret.yaml\n")
    (app / "base/secret.yaml").write_text(BASE_SECRET)
    recipient = ("--age", age_key.public)
    (app / "db.env").write_bytes(sops_encrypt("db.env", "DB_USER=admin\nDB_PASS=env-password\n", *recipient))
    (app / "cfg.json").write_bytes(sops_encrypt("cfg.json", '{"api": "json-password"}', *recipient))
    (app / "token.txt").write_bytes(sops_encrypt("token.txt", "binary-password", *recipient))
    (app / "patch.yaml").write_bytes(sops_encrypt("patch.yaml", PATCH, *recipient,
                                                  "--encrypted-regex", "^stringData$"))
    return root


def _objects(repo: Path, ring: KeyRing):
    discovery = discover(repo, DiscoverOptions(cluster_path="clusters/dev", sops=SopsKeys(ring)))
    node = discovery.nodes[APP]
    assert node.error is None, node.error
    return node, {o["metadata"]["name"]: o for o in node.objects}


def _value(obj, key):
    if key in (obj.get("stringData") or {}):
        return obj["stringData"][key]
    return base64.b64decode(obj["data"][key]).decode()


def test_generators_and_patches_decrypt_with_the_key(repo, age_key):
    ring = KeyRing(age=parse_age_identities(age_key.secret, where="k"), sources=["k"])
    node, objects = _objects(repo, ring)

    assert node.sealed == []
    gen = objects["gen"]
    assert _value(gen, "DB_PASS") == "env-password" and _value(gen, "DB_USER") == "admin"
    assert '"api": "json-password"' in _value(gen, "config.json")
    assert _value(gen, "token") == "binary-password"
    assert not any(k.startswith("sops_") for k in gen["data"])
    assert _value(objects["patched"], "password") == "patched-password"
    assert _value(objects["patched"], "user") == "base-user"
    assert not any(is_sealed(o) for o in node.objects)


def test_the_checkout_is_never_written(repo, age_key):
    before = (repo / "app/db.env").read_bytes()
    _objects(repo, KeyRing(age=parse_age_identities(age_key.secret, where="k"), sources=["k"]))
    assert (repo / "app/db.env").read_bytes() == before


def test_without_a_key_every_encrypted_secret_is_sealed_and_masked(repo):
    node, objects = _objects(repo, KeyRing(sources=[]))

    sealed = {s.object for s in node.sealed}
    assert {"file app/db.env", "file app/cfg.json", "file app/token.txt", "Secret/default/patched"} <= sealed
    assert is_sealed(objects["gen"]) and is_sealed(objects["patched"])
    assert not is_sealed(objects["plain"])
    text = repr(node.objects)
    assert "ENC[AES256_GCM" not in text and "sops_mac" not in text
    for value in ("env-password", "json-password", "binary-password", "patched-password"):
        assert value not in text


def test_a_tampered_generator_file_fails_the_build(repo, age_key):
    env = repo / "app/db.env"
    lines = env.read_text().splitlines()  # a value edited by hand, without sops
    edited = ["DB_USER=admin" if line.startswith("DB_USER=") else line for line in lines]
    env.write_text("\n".join(edited) + "\n")
    ring = KeyRing(age=parse_age_identities(age_key.secret, where="k"), sources=["k"])
    discovery = discover(repo, DiscoverOptions(cluster_path="clusters/dev", sops=SopsKeys(ring)))
    error = str(discovery.nodes[APP].error)
    assert "failed to decrypt app/db.env" in error and "DB_USER" in error


def test_decrypted_values_and_the_key_are_masked_in_any_output(repo, age_key):
    from fluxpush.redact import REGISTRY, redact

    REGISTRY.clear()
    _objects(repo, KeyRing(age=parse_age_identities(age_key.secret, where="k"), sources=["k"]))

    text = "env-password json-password binary-password patched-password " + age_key.secret
    assert redact(text) == "*** *** *** *** ***"
    assert redact("apiVersion: v1 kind: Secret name: patched") == "apiVersion: v1 kind: Secret name: patched"
    REGISTRY.clear()
