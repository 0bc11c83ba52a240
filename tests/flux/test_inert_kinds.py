"""Every Flux kind is known (issue 15.4): kinds fluxpush does not act on in push mode (Receiver,
Flux Operator's FluxInstance/ResourceSet/…, any other `*.toolkit.fluxcd.io`
or `*.extensions.fluxcd.io` kind) are listed as "not applicable in push mode", never a build error,
and never applied. A wrong version of a kind fluxpush does interpret is still an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: extras
  namespace: flux-system
spec:
  interval: 10m
  path: ./extras
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
EXTRAS = """apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata:
  name: github
  namespace: flux-system
spec:
  type: github
  secretRef:
    name: webhook-token
  resources:
    - kind: GitRepository
      name: flux-system
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: tenants
  namespace: flux-system
spec:
  resources: []
---
apiVersion: widgets.extensions.fluxcd.io/v1alpha1
kind: Widget
metadata:
  name: w
  namespace: flux-system
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomisation
metadata:
  name: typo
  namespace: flux-system
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: kept
  namespace: flux-system
data:
  a: b
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "clusters/dev").mkdir(parents=True)
    (root / "clusters/dev/extras.yaml").write_text(KS)
    (root / "extras").mkdir()
    (root / "extras/all.yaml").write_text(EXTRAS)
    return root


def test_inert_kinds_are_listed_not_errors_and_not_applied(run_cli, repo):
    result = run_cli("build", "--repo", str(repo), "--path", "clusters/dev")

    assert result.code == 0, result.err
    err = result.err
    assert "ℹ Receiver/flux-system/github: not applicable in push mode (notification-controller" in err
    assert "ℹ ResourceSet/flux-system/tenants: not applicable in push mode" in err
    assert "Widget/flux-system/w: not applicable in push mode" in err
    assert "Kustomisation/flux-system/typo: not applicable in push mode" in err
    assert "did you mean Kustomization?" in err
    assert "kind: ConfigMap" in result.out
    for kind in ("Receiver", "ResourceSet", "Widget", "Kustomisation"):
        assert f"kind: {kind}" not in result.out


def test_notices_in_json_outputs(run_cli, repo):
    built = json.loads(run_cli("build", "--repo", str(repo), "--path", "clusters/dev", "-o", "json").out)
    assert any(n.startswith("Receiver/flux-system/github") for n in built["notices"])
    validated = run_cli("validate", "--repo", str(repo), "--path", "clusters/dev", "-o", "json")
    assert validated.code == 0
    assert len(json.loads(validated.out)["notices"]) == 4


def test_a_wrong_version_of_an_interpreted_kind_is_still_an_error(run_cli, repo):
    bad = KS.replace("kustomize.toolkit.fluxcd.io/v1", "kustomize.toolkit.fluxcd.io/v9")
    (repo / "extras/bad.yaml").write_text(bad.replace("name: extras", "name: bad"))
    result = run_cli("build", "--repo", str(repo), "--path", "clusters/dev")
    assert result.code == 1
    assert "unsupported apiVersion kustomize.toolkit.fluxcd.io/v9" in result.err
