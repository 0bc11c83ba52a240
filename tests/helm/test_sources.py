"""Chart resolution from an HTTP HelmRepository on loopback (charts packaged by the real helm),
the content-addressed cache, offline use of the cache, basic auth, and GitRepository chart paths."""

from __future__ import annotations

import base64
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import use_helm_repository
from fluxpush.errors import SourceError
from fluxpush.flux.model import HelmRelease, ObjectRef
from fluxpush.helm.sources import ChartCache, resolve_chart
from fluxpush.repository.discover import DiscoverOptions, discover

pytestmark = pytest.mark.integration
HR = ObjectRef("HelmRelease", "external-secrets", "external-secrets")


@pytest.fixture
def repo(tmp_path, example_repo):
    copy = tmp_path / "repo"
    shutil.copytree(example_repo, copy)
    return copy


def _release(repo_dir):
    discovery = discover(repo_dir, DiscoverOptions(cluster_path="clusters/dev"))
    hr = discovery.nodes[HR].spec
    assert isinstance(hr, HelmRelease)
    return discovery, hr


def _no_lookup(kind, namespace, name):
    return None


def test_newest_matching_version_is_fetched_and_cached(repo, chart_repo, example_chart, tmp_path):
    for version in ("0.9.3", "0.9.20", "0.10.0"):
        chart_repo.publish(example_chart, version)
    use_helm_repository(repo, chart_repo.url, "0.9.x")
    discovery, hr = _release(repo)
    cache = ChartCache(tmp_path / "cache")
    chart = resolve_chart(hr, discovery, _no_lookup, cache=cache)
    assert (chart.name, chart.version, chart.cached) == ("external-secrets", "0.9.20", False)
    assert chart.path == cache.chart_path(chart.digest) and chart.path.is_file()
    assert chart_repo.requests == ["/index.yaml", "/external-secrets-0.9.20.tgz"]

    chart_repo.requests.clear()
    again = resolve_chart(hr, discovery, _no_lookup, cache=cache)
    assert again == chart  # same digest, same file: the chart is not downloaded twice
    assert chart_repo.requests == ["/index.yaml"]


def test_offline_resolution_uses_the_cache_and_says_when_it_cannot(repo, chart_repo, example_chart, tmp_path):
    chart_repo.publish(example_chart, "0.9.20")
    use_helm_repository(repo, chart_repo.url, "0.9.x")
    discovery, hr = _release(repo)
    cache = ChartCache(tmp_path / "cache")
    with pytest.raises(SourceError, match=r"cannot be fetched .* and is not cached"):
        resolve_chart(hr, discovery, _no_lookup, cache=cache, offline=True)
    online = resolve_chart(hr, discovery, _no_lookup, cache=cache)
    offline = resolve_chart(hr, discovery, _no_lookup, cache=cache, offline=True)
    assert (offline.version, offline.digest, offline.cached) == ("0.9.20", online.digest, True)


def test_concurrent_resolutions_share_one_cache(repo, chart_repo, example_chart, tmp_path):
    chart_repo.publish(example_chart, "0.9.20")
    use_helm_repository(repo, chart_repo.url, "*")
    discovery, hr = _release(repo)
    cache = ChartCache(tmp_path / "cache")
    with ThreadPoolExecutor(4) as pool:
        charts = list(pool.map(lambda _: resolve_chart(hr, discovery, _no_lookup, cache=cache), range(4)))
    assert len({c.digest for c in charts}) == 1
    assert [p.name for p in (tmp_path / "cache" / "charts").iterdir()] == [f"{charts[0].digest}.tgz"]


def test_basic_auth_from_the_secret_ref(repo, chart_repo, example_chart, tmp_path):
    chart_repo.publish(example_chart, "0.9.20")
    chart_repo.auth = "reader:pa55"
    use_helm_repository(repo, chart_repo.url, "0.9.x")
    source = repo / "infrastructure/external-secrets/helmrepository.yaml"
    source.write_text(source.read_text() + "  secretRef:\n    name: chart-creds\n")
    discovery, hr = _release(repo)
    secret = {"kind": "Secret", "data": {"username": base64.b64encode(b"reader").decode(),
                                         "password": base64.b64encode(b"pa55").decode()}}
    chart = resolve_chart(hr, discovery, lambda kind, ns, name: secret if name == "chart-creds" else None,
                          cache=ChartCache(tmp_path / "cache"))
    assert chart.version == "0.9.20"
    with pytest.raises(SourceError, match="secretRef 'chart-creds' not found"):
        resolve_chart(hr, discovery, _no_lookup, cache=ChartCache(tmp_path / "other"))


def test_git_repository_chart_path_is_the_checkout(repo, tmp_path):
    discovery, hr = _release(repo)
    chart = resolve_chart(hr, discovery, _no_lookup, cache=ChartCache(tmp_path / "cache"))
    assert (chart.name, chart.version) == ("external-secrets", "0.9.20")
    assert chart.path == repo / "charts" / "external-secrets"


def test_values_files_replace_the_chart_defaults(repo, tmp_path):
    (repo / "charts" / "overrides.yaml").write_text("replicaCount: 3\nlogLevel: warn\n")
    (repo / "charts" / "more.yaml").write_text("logLevel: error\n")
    release = repo / "infrastructure/external-secrets/helmrelease.yaml"
    release.write_text(release.read_text().replace(
        "      reconcileStrategy: Revision\n",
        "      reconcileStrategy: Revision\n      valuesFiles:\n        - charts/overrides.yaml\n"
        "        - ./charts/more.yaml\n"))
    discovery, hr = _release(repo)
    cache = ChartCache(tmp_path / "cache")
    chart = resolve_chart(hr, discovery, _no_lookup, cache=cache)
    # a replacement list merged in order: the chart's own values.yaml is not included
    assert (chart.path / "values.yaml").read_text() == "logLevel: error\nreplicaCount: 3\n"
    assert chart.path.is_relative_to(cache.root) and chart.digest in str(chart.path)
    assert resolve_chart(hr, discovery, _no_lookup, cache=cache).path == chart.path


@pytest.mark.parametrize("link", ["templates/leak.yaml", "files"])
def test_a_repository_chart_with_a_symlink_leading_outside_is_refused(repo, tmp_path, link):
    # helm follows symlinks in a chart folder (`.Files.Get`, templates): a link out of the
    # repository would read the runner's files, so the chart is refused, naming the link.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("RUNNER_FILE_CANARY")
    target = outside / "secret.txt" if link.endswith(".yaml") else outside
    (repo / "charts/external-secrets" / link).symlink_to(target)
    discovery, hr = _release(repo)
    with pytest.raises(SourceError, match=f"charts/external-secrets/{link} is a symlink leading outside"):
        resolve_chart(hr, discovery, _no_lookup, cache=ChartCache(tmp_path / "cache"))


def test_a_symlink_inside_the_repository_keeps_the_chart(repo, tmp_path):
    (repo / "charts/external-secrets/files").symlink_to(repo / "apps")
    discovery, hr = _release(repo)
    chart = resolve_chart(hr, discovery, _no_lookup, cache=ChartCache(tmp_path / "cache"))
    assert chart.path == repo / "charts" / "external-secrets"


def test_a_busy_repository_is_retried_and_one_that_stays_down_is_named(repo, chart_repo, example_chart,
                                                                        make_receiver, tmp_path):
    # source-controller's chart getter retries through go-retryablehttp; a 503 then the index is a chart.
    chart_repo.publish(example_chart, "0.9.20")
    flaky = make_receiver()
    flaky.answer("/index.yaml", (503, b"busy"), (200, (chart_repo.root / "index.yaml").read_bytes()))
    use_helm_repository(repo, flaky.url, "0.9.x")
    discovery, hr = _release(repo)
    chart = resolve_chart(hr, discovery, _no_lookup, cache=ChartCache(tmp_path / "cache"))
    assert chart.version == "0.9.20" and len(flaky.at("/index.yaml")) == 2

    flaky.answer("/index.yaml", (503, b"busy"))
    with pytest.raises(SourceError) as caught:
        resolve_chart(hr, discovery, _no_lookup, cache=ChartCache(tmp_path / "empty"))
    expected = f"index {flaky.url}/index.yaml cannot be fetched (HTTP 503: busy (after 3 attempts))"
    assert expected in str(caught.value)
