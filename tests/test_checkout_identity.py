"""Which GitRepository is the checkout: the root's own, or one whose URL is the checkout's GitHub
repository. That repository (`owner/name`) is a discovery option the faces fill (the action from
GITHUB_REPOSITORY); neither discovery nor the helm chart sources read the environment for it.

As in Flux, where source-controller clones every GitRepository, a Kustomization or a HelmRelease chart
from a GitRepository that is this repository under another name reads the same files.
"""

from __future__ import annotations

import shutil

import pytest

from fluxpush.errors import SourceError
from fluxpush.flux.model import ObjectRef
from fluxpush.helm.sources import ChartCache, resolve_chart
from fluxpush.nodes import is_helm_release
from fluxpush.repository.discover import DiscoverOptions, discover

APP_1 = ObjectRef("Kustomization", "flux-system", "app-1")
WITH_GITHUB = DiscoverOptions(cluster_path="clusters/dev", github_repository="acme/platform-mirror")
HR = ObjectRef("HelmRelease", "external-secrets", "external-secrets")
MIRROR = """---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: mirror
  namespace: flux-system
spec:
  interval: 1m
  url: https://github.com/acme/platform-mirror.git
  ref:
    branch: main
"""


@pytest.fixture
def repo(tmp_path, example_repo):
    """The example with a second GitRepository (`mirror`) that app-1 and the HelmRelease's chart use."""
    copy = tmp_path / "repo"
    shutil.copytree(example_repo, copy)
    sync = copy / "clusters/dev/flux-system/gotk-sync.yaml"
    sync.write_text(sync.read_text() + MIRROR)
    apps = copy / "clusters/dev/apps.yaml"
    apps.write_text(apps.read_text().replace("    name: gitops-platform\n", "    name: mirror\n", 1))
    release = copy / "infrastructure/external-secrets/helmrelease.yaml"
    release.write_text(release.read_text().replace("name: gitops-platform\n", "name: mirror\n"))
    return copy


def _no_lookup(kind, namespace, name):
    return None


def test_a_kustomization_from_the_github_repository_is_built_from_the_checkout(repo, monkeypatch):
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/platform-mirror")  # ignored below the faces
    unknown = discover(repo, DiscoverOptions(cluster_path="clusters/dev"))
    assert "GitRepository/flux-system/mirror is neither this repository nor mapped to a directory" in \
        str(unknown.nodes[APP_1].error)

    known = discover(repo, WITH_GITHUB)
    assert known.nodes[APP_1].error is None
    assert {o["kind"] for o in known.nodes[APP_1].objects} >= {"Deployment", "Service"}


def test_a_chart_from_the_github_repository_is_read_from_the_checkout(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/platform-mirror")  # ignored below the faces
    unknown = discover(repo, DiscoverOptions(cluster_path="clusters/dev"))
    node = unknown.nodes[HR]
    assert is_helm_release(node)
    with pytest.raises(SourceError, match=r"GitRepository flux-system/mirror \(https://github.com/acme/"
                                          r"platform-mirror.git\) is not this repository"):
        resolve_chart(node.spec, unknown, _no_lookup, cache=ChartCache(tmp_path / "cache"))

    known = discover(repo, WITH_GITHUB)
    chart = resolve_chart(node.spec, known, _no_lookup, cache=ChartCache(tmp_path / "cache"))
    assert chart.path == repo / "charts" / "external-secrets"
    assert chart.source == "GitRepository/flux-system/mirror"
