"""SOPS end to end against kubesim through the CLI: never apply a mask (issue 13 item 3), decrypt
with a key from the command line or from `spec.decryption.secretRef` in the cluster (as
kustomize-controller's ImportKeys reads `*.agekey` entries), and a SOPS Secret at the cluster root
that the root Kustomization decrypts through a patch in flux-system/kustomization.yaml, the layout
Flux's SOPS guide and Flux Operator repositories use."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from fluxpush.kube import KubeClient, connect_sandbox
from kubesim import KubeSim, Options

pytestmark = pytest.mark.integration

ROOT_SYNC = """---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  url: https://github.com/example-org/sops-repo
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
  path: ./clusters/dev
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
DECRYPTION_PATCH = """patches:
  - patch: |
      - op: add
        path: /spec/decryption
        value:
          provider: sops
          secretRef:
            name: sops-age
    target:
      kind: Kustomization
      name: flux-system
"""
APPS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  decryption:
    provider: sops
    secretRef:
      name: sops-age
"""
APP_SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: default
stringData:
  password: correct-horse-battery
  user: app
"""
ROOT_SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: cluster-token
  namespace: flux-system
stringData:
  token: root-token-value
"""


@pytest.fixture
def sops_repo(tmp_path: Path, sops_encrypt, age_key) -> Path:
    repo = tmp_path / "repo"
    flux = repo / "clusters/dev/flux-system"
    flux.mkdir(parents=True)
    (flux / "gotk-sync.yaml").write_text(ROOT_SYNC)
    (flux / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        "  - gotk-sync.yaml\n" + DECRYPTION_PATCH)
    regex = ("--encrypted-regex", "^(data|stringData)$")
    (repo / "clusters/dev/cluster-token.yaml").write_bytes(
        sops_encrypt("cluster-token.yaml", ROOT_SECRET, "--age", age_key.public, *regex))
    (repo / "clusters/dev/apps.yaml").write_text(APPS)
    (repo / "apps").mkdir()
    (repo / "apps/db.yaml").write_bytes(sops_encrypt("db.yaml", APP_SECRET, "--age", age_key.public, *regex))
    (repo / "apps/kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - db.yaml\n")
    return repo


@pytest.fixture
def cluster(tmp_path: Path):
    with KubeSim(Options(cluster_name="sops", ready_delay=0.02, crd_delay=0.02)) as sim, \
            KubeClient(connect_sandbox(sim)) as client:
        for name in ("flux-system", "default"):
            client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, "test")
        yield client, str(sim.write_kubeconfig(tmp_path / "kubeconfig"))


@pytest.fixture
def cli(run_cli, sops_repo, cluster, monkeypatch):
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(sops_repo.parent / "no-sops-config"))  # no default key file
    _, kubeconfig = cluster

    def run(*args: str):
        return run_cli(*args, "--repo", str(sops_repo), "--path", "clusters/dev", "--kubeconfig", kubeconfig)

    return run


def _live_value(client, name: str, namespace: str, key: str) -> str | None:
    secret = client.get("v1", "Secret", name, namespace)
    return None if secret is None else base64.b64decode(secret["data"][key]).decode()


def _put_secret(client, name: str, namespace: str, values: dict[str, str]) -> None:
    client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
                  "stringData": values}, "someone")


def _assert_no_secret_printed(result) -> None:
    for value in ("correct-horse-battery", "root-token-value", "live-password"):
        assert value not in result.out + result.err


def test_apply_without_a_key_fails_the_node_and_keeps_the_live_value(cli, cluster, age_key):
    client, _ = cluster
    _put_secret(client, "db", "default", {"password": "live-password", "user": "app"})

    result = cli("apply")

    assert result.code == 1
    text = result.out + result.err
    assert "Secret/flux-system/cluster-token is SOPS encrypted and was not decrypted" in text
    assert age_key.public in text  # the key that is missing
    assert "decryption Secret flux-system/sops-age was not found in the cluster" in text
    assert _live_value(client, "db", "default", "password") == "live-password"
    assert _live_value(client, "cluster-token", "flux-system", "token") is None
    _assert_no_secret_printed(result)


def test_a_child_whose_key_is_missing_fails_naming_it_and_keeps_the_live_value(
        cli, cluster, age_key, sops_repo, sops_encrypt):
    import pyrage

    other = str(pyrage.x25519.Identity.generate().to_public())
    (sops_repo / "apps/db.yaml").write_bytes(sops_encrypt(
        "db.yaml", APP_SECRET, "--age", other, "--encrypted-regex", "^(data|stringData)$"))
    client, _ = cluster
    client.apply({"apiVersion": "v1", "kind": "Secret",
                  "metadata": {"name": "sops-age", "namespace": "flux-system"},
                  "stringData": {"age.agekey": age_key.secret}}, "bootstrap")
    _put_secret(client, "db", "default", {"password": "live-password", "user": "app"})

    result = cli("apply")

    assert result.code == 1
    text = result.out + result.err
    assert "Secret/default/db is SOPS encrypted and was not decrypted" in text and other in text
    assert _live_value(client, "db", "default", "password") == "live-password"
    assert _live_value(client, "cluster-token", "flux-system", "token") == "root-token-value"
    _assert_no_secret_printed(result)
    assert age_key.secret not in text


def test_diff_without_a_key_compares_by_key_set(cli, cluster):
    client, _ = cluster
    _put_secret(client, "db", "default", {"password": "live-password", "user": "app"})
    _put_secret(client, "cluster-token", "flux-system", {"token": "x"})

    same = cli("diff")
    assert same.code == 0, same.out + same.err
    assert "0 to update, 0 to delete, 2 unchanged" in same.out
    plan = cli("plan", "-o", "json")
    assert plan.code == 0, plan.err
    assert "compared by key set" in plan.out

    client.delete("v1", "Secret", "db", "default")
    _put_secret(client, "db", "default", {"password": "live-password"})
    changed = cli("diff")
    assert changed.code == 1
    assert "+data.user: ***" in changed.out
    _assert_no_secret_printed(changed)


def test_apply_with_a_key_file_writes_the_decrypted_values(cli, cluster, age_key, tmp_path):
    client, _ = cluster
    key_file = tmp_path / "age.agekey"
    key_file.write_text(f"# test key\n{age_key.secret}\n")

    result = cli("apply", "--sops-age-key-file", str(key_file))

    assert result.code == 0, result.out + result.err
    assert _live_value(client, "db", "default", "password") == "correct-horse-battery"
    assert _live_value(client, "cluster-token", "flux-system", "token") == "root-token-value"
    _assert_no_secret_printed(result)


def test_apply_with_the_decryption_secret_in_the_cluster(cli, cluster, age_key):
    client, _ = cluster
    client.apply({"apiVersion": "v1", "kind": "Secret",
                  "metadata": {"name": "sops-age", "namespace": "flux-system"},
                  "stringData": {"age.agekey": age_key.secret}}, "bootstrap")

    result = cli("apply")

    assert result.code == 0, result.out + result.err
    assert _live_value(client, "db", "default", "user") == "app"
    assert _live_value(client, "db", "default", "password") == "correct-horse-battery"


def test_build_masks_and_never_prints_ciphertext_or_values(run_cli, sops_repo, age_key, monkeypatch):
    monkeypatch.setenv("SOPS_AGE_KEY", age_key.secret)  # build never decrypts, as `flux build`

    result = run_cli("build", "--repo", str(sops_repo), "--path", "clusters/dev")

    assert result.code == 0, result.err
    assert "KipTT1BTKio=" in result.out or "**SOPS**" in result.out
    assert "ENC[AES256_GCM" not in result.out
    _assert_no_secret_printed(result)


def test_root_secret_without_decryption_fails_the_root_only(run_cli, sops_repo):
    kustomization = sops_repo / "clusters/dev/flux-system/kustomization.yaml"
    kustomization.write_text(kustomization.read_text().split("patches:")[0])

    result = run_cli("build", "--repo", str(sops_repo), "--path", "clusters/dev")

    assert result.code == 1
    assert "Secret/cluster-token is SOPS encrypted, configuring decryption is required" in result.err
    assert "# Kustomization/flux-system/apps" in result.out  # discovery went on below the root
