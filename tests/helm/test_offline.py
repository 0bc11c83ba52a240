"""HelmRelease rendering without a cluster (the `--base` preview path): charts from the checkout or
the cache, values from the rendered repository, a clear error when a chart cannot be fetched."""

from __future__ import annotations

import shutil

import pytest

from conftest import use_helm_repository
from fluxpush.errors import SourceError
from fluxpush.flux.model import ObjectRef
from fluxpush.helm.reconcile import render_offline
from fluxpush.helm.sources import ChartCache
from fluxpush.repository.discover import DiscoverOptions, discover

pytestmark = pytest.mark.integration
HR = ObjectRef("HelmRelease", "external-secrets", "external-secrets")


def test_render_offline_from_the_checkout(example_repo, tmp_path):
    discovery = discover(example_repo, DiscoverOptions(cluster_path="clusters/dev"))
    chart, objects = render_offline(discovery.nodes[HR], discovery, cache=ChartCache(tmp_path))
    assert (chart.name, chart.version) == ("external-secrets", "0.9.20")
    by_kind = {o["kind"]: o for o in objects}
    assert sorted(by_kind) == ["Deployment", "Service", "ServiceAccount"]
    assert all(o["metadata"]["namespace"] == "external-secrets" for o in objects)
    assert by_kind["Deployment"]["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] == "external-secrets"
    annotations = by_kind["ServiceAccount"]["metadata"]["annotations"]
    assert annotations["eks.amazonaws.com/role-arn"].endswith("eso-role")


def test_unreachable_repository_uses_the_cache_or_says_so(example_repo, tmp_path, chart_repo, example_chart):
    repo = tmp_path / "repo"
    shutil.copytree(example_repo, repo)
    chart_repo.publish(example_chart, "0.9.20")
    use_helm_repository(repo, chart_repo.url, "0.9.x")
    discovery = discover(repo, DiscoverOptions(cluster_path="clusters/dev"))
    cache = ChartCache(tmp_path / "cache")
    render_offline(discovery.nodes[HR], discovery, cache=cache)  # fills the cache
    shutil.rmtree(chart_repo.root)  # the repository is gone: index and chart answer 404
    chart, objects = render_offline(discovery.nodes[HR], discovery, cache=cache)
    assert chart.cached and chart.version == "0.9.20" and objects
    with pytest.raises(SourceError, match=r"index .*index\.yaml cannot be fetched .* and is not cached"):
        render_offline(discovery.nodes[HR], discovery, cache=ChartCache(tmp_path / "empty"))
