"""A HelmRelease whose `chartRef` is an ExternalArtifact that an ArtifactGenerator of this
repository produces from the checkout (the Flux 2.7 layout): the chart is built locally by the
generator's copy rules and installed; the plan and `get hr` name the artifact as the source."""

from __future__ import annotations

import pytest

from conftest import HELMRELEASE
from fluxpush.cli.views import chart_summary
from fluxpush.errors import SourceError
from fluxpush.flux.model import ObjectRef
from fluxpush.helm.sources import ChartCache, resolve_chart
from fluxpush.helm.storage import latest_release

pytestmark = pytest.mark.integration
HR = ObjectRef("HelmRelease", "external-secrets", "external-secrets")
GENERATOR = """---
apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: charts
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: GitRepository
      name: gitops-platform
  artifacts:
    - name: eso-chart
      copy:
        - from: "@repo/charts/external-secrets/**"
          to: "@artifact/"
"""


def _use_artifact_chart(sandbox, namespace_line: str = "    namespace: flux-system\n") -> None:
    release = sandbox.repo / HELMRELEASE
    text = release.read_text()
    start, end = text.index("  chart:\n"), text.index("  install:\n")
    release.write_text(text[:start] + "  chartRef:\n    kind: ExternalArtifact\n    name: eso-chart\n"
                       + namespace_line + text[end:])
    infrastructure = sandbox.repo / "clusters/dev/infrastructure.yaml"
    infrastructure.write_text(infrastructure.read_text() + GENERATOR)
    sandbox._discovery = None


def _no_lookup(kind, namespace, name):
    return None


def test_chart_ref_to_a_generated_artifact_installs(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("FLUXPUSH_CACHE_DIR", str(tmp_path / "cache"))
    _use_artifact_chart(sandbox)
    discovery = sandbox.discover()
    hr = discovery.nodes[HR].spec

    chart = resolve_chart(hr, discovery, _no_lookup, cache=ChartCache(tmp_path / "c"))
    assert chart.name == "external-secrets" and chart.source == "ExternalArtifact/flux-system/eso-chart"
    assert chart_summary(discovery, hr) == ("eso-chart", None, "ExternalArtifact/flux-system/eso-chart")

    result = next(r for r in sandbox.run(apply=True).results if r.node == HR)
    assert result.ok, result.message
    assert latest_release(sandbox.client, "external-secrets", "external-secrets").status == "deployed"


def test_an_artifact_no_generator_produces_is_named(sandbox, tmp_path):
    _use_artifact_chart(sandbox, "    namespace: elsewhere\n")
    discovery = sandbox.discover()
    with pytest.raises(SourceError, match="ExternalArtifact/elsewhere/eso-chart is not produced by an "
                                          "ArtifactGenerator"):
        resolve_chart(discovery.nodes[HR].spec, discovery, _no_lookup, cache=ChartCache(tmp_path / "c"))
