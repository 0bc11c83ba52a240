"""Every Flux object in the shared corpus of real repositories (read in place) validates and parses.

The exceptions are files that are not complete objects (kustomize patch files, inputs for
`flux build --kustomization-file` that are merged with a live object) and test fixtures that a
real API server would reject too; each is listed with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxpush.errors import YAMLError
from fluxpush.flux import is_flux_object, parse_flux_object, validate_flux_object
from fluxpush.yamldoc import load_file

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

_PATCH = "a kustomize patch of a HelmRelease, not a complete object"
_PARTIAL = "a partial Kustomization for `flux build --kustomization-file`, merged with a live object"
KNOWN_INVALID = {
    "flux-local/tests/testdata/cluster/apps/prod/podinfo-values.yaml": _PATCH,
    "kustomize-helm-example-classic/apps/production/podinfo-values.yaml": _PATCH,
    "kustomize-helm-example-classic/apps/staging/podinfo-values.yaml": _PATCH,
    "flux2-cli/internal/build/testdata/invalid-labels/kustomization.yaml": _PARTIAL,
    "flux2-cli/internal/build/testdata/local-kustomization/different-name.yaml": _PARTIAL,
    "flux2-cli/internal/build/testdata/local-kustomization/multi-doc-reset.yaml": _PARTIAL,
    "flux2-cli/internal/build/testdata/local-kustomization/multi-doc-valid.yaml": _PARTIAL,
    "flux2-cli/internal/build/testdata/local-kustomization/no-ns.yaml": _PARTIAL,
    "flux2-cli/internal/build/testdata/local-kustomization/valid.yaml": _PARTIAL,
    "flux2-cli/internal/build/testdata/substitute-strategy/always.yaml": _PARTIAL,
    "flux2-cli/internal/build/testdata/substitute-strategy/with-variables.yaml": _PARTIAL,
    "flux-local/tests/testdata/cluster6/cluster/apps.yaml": "Kustomization without interval and prune",
    "flux-local/tests/testdata/cluster11/cluster/apps.yaml": "Kustomization without interval and prune",
    "flux-local/tests/testdata/cluster7/flux/apps/ingress-nginx/release.yaml": "HelmRelease without interval",
    "flux-local/tests/testdata/cluster7/flux/apps/ingress-nginx/chart.yaml":
        "HelmChart without interval, and a sourceRef.namespace HelmChart does not have",
    "kustomize-controller/config/testdata/status-defaults/empty-kustomization.yaml":
        "a Kustomization without spec (an API-server defaulting fixture); fluxpush requires spec",
}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not present")
def test_corpus_flux_objects_validate_and_parse() -> None:
    invalid: dict[str, list[str]] = {}
    parsed = 0
    for path in sorted(CORPUS.rglob("*.y*ml")):
        relative = path.relative_to(CORPUS).as_posix()
        try:
            documents = load_file(str(path), relative)
        except YAMLError:
            continue  # Helm templates and Go-templated goldens are not YAML
        for doc in documents:
            if not is_flux_object(doc.data):
                continue
            errors = validate_flux_object(doc.data, doc.origin)
            if errors:
                invalid.setdefault(relative, []).extend(str(error) for error in errors)
            else:
                parse_flux_object(doc.data, doc.origin)
                parsed += 1
    assert sorted(invalid) == sorted(KNOWN_INVALID), invalid
    assert parsed >= 120
