"""The home-lab layout (the shape of bjw-s/home-ops and of the onedr0p cluster template before Flux
Operator): the root Kustomization `cluster` builds `k8s/flux`, which holds `vars/cluster-settings`
(a ConfigMap) and `vars/cluster-secrets` (a SOPS Secret), and substitutes its own output with them;
`cluster-apps` substitutes from the same two. In Flux both are in the cluster since the root's
previous apply, so every node builds.

Without the key the Secret's values are masked: builds keep working, the variables taken from it
read `SOPS_MASKED`, and the nodes that use them are sealed, so `apply` refuses them and writes none of
their objects (a mask is never applied, here in a ConfigMap rather than a Secret)."""

from __future__ import annotations

import pytest

from fluxpush.app.reconcilers import default_reconcilers
from fluxpush.engine.run import run_nodes
from fluxpush.flux.model import ObjectRef
from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.options import EngineOptions
from fluxpush.planning.result import Outcome
from fluxpush.repository.discover import DiscoverOptions, discover
from fluxpush.sops.keys import KeyRing, parse_age_identities
from fluxpush.sops.keysource import SopsKeys
from kubesim import KubeSim, Options
from realrepos.layouts import namespace, write_tree

SUBSTITUTE = """  decryption:
    provider: sops
    secretRef:
      name: sops-age
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: cluster-settings
      - kind: Secret
        name: cluster-secrets
"""


def _ks(name: str, path: str) -> str:
    return ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
            f"metadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 30m\n"
            f"  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: home-ops\n"
            + SUBSTITUTE)


SETTINGS = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n  namespace: flux-system\n"
            "data:\n  DOMAIN: example.org\n")
SECRETS = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-secrets\n  namespace: flux-system\n"
           "stringData:\n  SECRET_DOMAIN: hidden.example.net\n")
APP = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hosts\n  namespace: web\n"
       "data:\n  public: ${DOMAIN}\n  private: ${SECRET_DOMAIN}\n")
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"


@pytest.fixture
def repo(tmp_path, sops_encrypt, age_key):
    secrets = sops_encrypt("cluster-secrets.sops.yaml", SECRETS, "--age", age_key.public,
                           "--encrypted-regex", "^(data|stringData)$")
    root = write_tree(tmp_path / "repo", {
        "k8s/flux/kustomization.yaml": KUSTOMIZATION + "  - config\n  - vars\n  - apps.yaml\n",
        "k8s/flux/config/kustomization.yaml": KUSTOMIZATION + "  - cluster.yaml\n",
        "k8s/flux/config/cluster.yaml": _ks("cluster", "./k8s/flux"),
        "k8s/flux/vars/kustomization.yaml": KUSTOMIZATION + "  - cluster-settings.yaml\n"
                                                            "  - cluster-secrets.sops.yaml\n",
        "k8s/flux/vars/cluster-settings.yaml": SETTINGS,
        "k8s/flux/apps.yaml": _ks("cluster-apps", "./k8s/apps"),
        "k8s/apps/namespace.yaml": namespace("web"),
        "k8s/apps/hosts.yaml": APP,
    })
    (root / "k8s/flux/vars/cluster-secrets.sops.yaml").write_bytes(secrets)
    return root


def _hosts(discovery) -> dict:
    node = discovery.nodes[ObjectRef("Kustomization", "flux-system", "cluster-apps")]
    return next(obj for obj in node.objects if obj["metadata"]["name"] == "hosts")["data"]


def test_the_root_substitutes_from_its_own_vars_and_masks_sealed_variables(repo):
    discovery = discover(repo, DiscoverOptions(cluster_path="k8s/flux"))

    assert [str(p) for p in discovery.problems] == []
    root = discovery.nodes[ObjectRef("Kustomization", "flux-system", "cluster")]
    assert root.parent is None and root.error is None
    assert _hosts(discovery) == {"public": "example.org", "private": "SOPS_MASKED"}
    apps = discovery.nodes[ObjectRef("Kustomization", "flux-system", "cluster-apps")]
    assert [s.object for s in apps.sealed] == ["Secret/flux-system/cluster-secrets"]
    assert "substitutes postBuild variables from it" in str(apps.sealed[0])


def test_with_the_key_the_variables_are_the_secret_values(repo, age_key):
    ring = KeyRing(sources=["test"], age=parse_age_identities(age_key.secret, where="test"))
    discovery = discover(repo, DiscoverOptions(cluster_path="k8s/flux", sops=SopsKeys(ring)))

    assert _hosts(discovery) == {"public": "example.org", "private": "hidden.example.net"}
    assert all(not node.sealed for node in discovery.nodes.values())


def test_apply_without_the_key_never_writes_a_masked_variable(repo):
    discovery = discover(repo, DiscoverOptions(cluster_path="k8s/flux"))
    with KubeSim(Options(cluster_name="sandbox")) as sim, KubeClient(connect_sandbox(sim)) as client:
        run = run_nodes(discovery, client, EngineOptions(), apply=True, reconcilers=default_reconcilers())
        written = {name: client.get("v1", "ConfigMap", name, ns)
                   for name, ns in (("hosts", "web"), ("cluster-settings", "flux-system"))}
    results = {str(r.node): r for r in run.results}

    root = results["Kustomization/flux-system/cluster"]
    assert root.outcome is Outcome.FAILED
    assert "Secret/flux-system/cluster-secrets" in root.message
    assert "substitutes postBuild variables from it" in root.message
    assert results["Kustomization/flux-system/cluster-apps"].outcome is Outcome.BLOCKED
    assert written == {"hosts": None, "cluster-settings": None}
