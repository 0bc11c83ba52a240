"""Charts from an OCI registry (Debian's docker-registry, started by the test) through a
HelmRepository of `type: oci` and through `chartRef` to an OCIRepository; install on kubesim."""

from __future__ import annotations

import pytest

from conftest import HELMRELEASE, HELMREPOSITORY
from fluxpush.flux.model import ObjectRef
from fluxpush.helm.sources import ChartCache, resolve_chart
from fluxpush.helm.storage import latest_release

pytestmark = pytest.mark.integration
HR = ObjectRef("HelmRelease", "external-secrets", "external-secrets")
GIT_CHART = ("      chart: ./charts/external-secrets\n      reconcileStrategy: Revision\n      sourceRef:\n"
             "        kind: GitRepository\n        name: gitops-platform\n")


def _no_lookup(kind, namespace, name):
    return None


def test_oci_helm_repository_resolves_the_range_and_installs(sandbox, oci_registry, example_chart, tmp_path,
                                                             monkeypatch):
    monkeypatch.setenv("FLUXPUSH_CACHE_DIR", str(tmp_path / "cache"))
    for version in ("0.9.3", "0.9.20", "1.0.0"):
        oci_registry.push(example_chart, version)
    sandbox.edit(HELMRELEASE, GIT_CHART, '      chart: external-secrets\n      version: "0.9.x"\n'
                                         "      sourceRef:\n        kind: HelmRepository\n"
                                         "        name: external-secrets\n")
    sandbox.edit(HELMREPOSITORY, "  url: https://charts.external-secrets.io\n",
                 f"  type: oci\n  insecure: true\n  url: {oci_registry.url}\n")
    discovery = sandbox.discover()
    hr, cache = discovery.nodes[HR].spec, ChartCache(tmp_path / "c2")
    chart = resolve_chart(hr, discovery, _no_lookup, cache=cache)
    assert (chart.name, chart.version, chart.cached) == ("external-secrets", "0.9.20", False)
    offline = resolve_chart(hr, discovery, _no_lookup, cache=cache, offline=True)
    assert (offline.digest, offline.cached) == (chart.digest, True)

    result = next(r for r in sandbox.run(apply=True).results if r.node == HR)
    assert result.ok, result.message
    release = latest_release(sandbox.client, "external-secrets", "external-secrets")
    assert (release.chart_version, release.status) == ("0.9.20", "deployed")


def test_chart_ref_to_an_oci_repository(sandbox, oci_registry, example_chart, tmp_path):
    oci_registry.push(example_chart, "0.9.21")
    release = sandbox.repo / HELMRELEASE
    text = release.read_text()
    start, end = text.index("  chart:\n"), text.index("  install:\n")
    chart_ref = "  chartRef:\n    kind: OCIRepository\n    name: eso-chart\n"
    release.write_text(text[:start] + chart_ref + text[end:])
    source = sandbox.repo / HELMREPOSITORY
    source.write_text(source.read_text() + "---\napiVersion: source.toolkit.fluxcd.io/v1\n"
                      "kind: OCIRepository\nmetadata:\n  name: eso-chart\n  namespace: external-secrets\n"
                      "spec:\n  interval: 1h\n"
                      f"  insecure: true\n  url: {oci_registry.url}/external-secrets\n"
                      "  ref:\n    semver: '>=0.9.0 <1.0.0'\n")
    discovery = sandbox.discover()
    chart = resolve_chart(discovery.nodes[HR].spec, discovery, _no_lookup, cache=ChartCache(tmp_path / "c"))
    assert (chart.name, chart.version) == ("external-secrets", "0.9.21")
