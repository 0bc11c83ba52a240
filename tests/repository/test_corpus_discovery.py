"""Discovery of real Flux repositories (read in place from ../shared/corpus) against the corpus's
emulated expectations: per Kustomization its path, dependsOn and the number of non-Flux objects it
renders; per HelmRelease its chart, version and source.

The expectations come from an offline emulation, not from Flux itself. Where the emulation and
Flux disagree, these tests follow Flux and say so:
- flux-local `cluster6` and `cluster11` declare a Kustomization without `interval` and `prune`; the
  Flux v1 CRD requires both, so an API server (and fluxpush) rejects it instead of building it;
- flux-local `cluster7` has a HelmRelease without `interval`, which the helm-controller v2 CRD
  requires (the emulation lists it);
- flux-local `cluster5` puts a Kustomization in namespace `controllers` with a `sourceRef` that has
  no namespace: Flux defaults it to `controllers`, where no such GitRepository exists, so the node
  fails with the missing source named (the emulation uses `flux-system`'s);
- flux-local `cluster10` has a Kustomization whose GitRepository is another repository: Flux would
  clone it, fluxpush reports it with the `--source` flag that maps it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# Kinds that fluxpush interprets instead of applying; the emulation counts them as objects.
FLUX_KINDS = {
    "Kustomization", "HelmRelease", "HelmRepository", "GitRepository", "OCIRepository", "HelmChart",
    "Bucket", "Provider", "Alert", "Receiver", "ImageRepository", "ImagePolicy", "ImageUpdateAutomation",
}

# (source root under the corpus, cluster path, expectation file)
AGREEING = [
    ("kustomize-helm-example-classic", "clusters/production",
     "kustomize-helm-example-classic/expected-emulated/production.json"),
    ("kustomize-helm-example-classic", "clusters/staging",
     "kustomize-helm-example-classic/expected-emulated/staging.json"),
    ("flux-local", "tests/testdata/cluster/clusters/prod", "flux-local/expected-emulated/cluster.json"),
    ("flux-local", "tests/testdata/cluster8/cluster", "flux-local/expected-emulated/cluster8.json"),
    ("flux-local", "tests/testdata/cluster9/clusters/dev", "flux-local/expected-emulated/cluster9.json"),
    ("flux-local", "tests/testdata/cluster12/cluster", "flux-local/expected-emulated/cluster12.json"),
    ("flux-local", "tests/testdata/image_error/cluster", "flux-local/expected-emulated/image_error.json"),
]


def _get(run_cli, repo: Path, path: str, what: str) -> list[dict]:
    result = run_cli("get", what, "--repo", str(repo), "--path", path, "-o", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


@pytest.mark.parametrize(("root", "path", "expectation"), AGREEING, ids=[e for *_, e in AGREEING])
def test_discovery_matches_the_emulated_expectation(run_cli, corpus, root, path, expectation):
    expected = json.loads((corpus / expectation).read_text())
    kustomizations = {f"{k['namespace']}/{k['name']}": k for k in _get(run_cli, corpus / root, path, "ks")}

    # The classic example's emulation leaves out the root, which fluxpush always lists.
    expected_names = {k["name"] for k in expected["kustomizations"]} | {"flux-system/flux-system"}
    assert set(kustomizations) == expected_names
    for want in expected["kustomizations"]:
        got = kustomizations[want["name"]]
        assert got["error"] is None, got["error"]
        assert got["path"] == want["path"]
        assert sorted(got["dependsOn"]) == sorted(want["dependsOn"])
        assert got["objects"] == sum(n for kind, n in want["kinds"].items() if kind not in FLUX_KINDS)

    releases = {f"{h['namespace']}/{h['name']}": h for h in _get(run_cli, corpus / root, path, "hr")}
    assert set(releases) == {h["name"] for h in expected["helmreleases"]}
    for want in expected["helmreleases"]:
        got = releases[want["name"]]
        if not want["chart"].startswith("chartRef:"):  # chartRef releases have no chart.spec
            assert (got["chart"], got["version"]) == (want["chart"], want["version"])
        assert sorted(got["dependsOn"]) == sorted(want["dependsOn"])


@pytest.mark.parametrize("cluster", ["cluster6/cluster", "cluster11/cluster"])
def test_kustomization_without_interval_and_prune_is_a_schema_error(run_cli, corpus, cluster):
    result = run_cli("validate", "--repo", str(corpus / "flux-local"), "--path", f"tests/testdata/{cluster}")

    assert result.code == 1
    where = f"tests/testdata/{cluster}/apps.yaml:7: Kustomization/flux-system/apps"
    assert f"{where}: spec.interval: required field is missing" in result.out
    assert "spec.prune: required field is missing" in result.out


def test_source_ref_namespace_defaults_to_the_kustomization_namespace(run_cli, corpus):
    kustomizations = {f"{k['namespace']}/{k['name']}": k for k in _get(
        run_cli, corpus / "flux-local", "tests/testdata/cluster5/clusters/prod", "ks")}

    error = kustomizations["controllers/infra-controllers"]["error"]
    assert "tests/testdata/cluster5/clusters/prod/infrastructure.yaml:2" in error
    assert "source GitRepository/controllers/flux-system is neither this repository nor mapped" in error
    assert kustomizations["flux-system/flux-system"]["error"] is None


def test_a_source_in_another_repository_is_reported_with_the_flag_that_maps_it(run_cli, corpus):
    kustomizations = {f"{k['namespace']}/{k['name']}": k for k in _get(
        run_cli, corpus / "flux-local", "tests/testdata/cluster10/clusters/dev", "ks")}

    error = kustomizations["snapshot-controller/snapshot-controller"]["error"]
    assert "pass --source GitRepository/snapshot-controller/external-snapshotter=DIR" in error
    assert kustomizations["flux-system/flux-system"]["error"] is None
