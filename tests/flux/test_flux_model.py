"""Parsing every supported kind and version into the typed model, and the model's defaults."""

from __future__ import annotations

import hashlib

import pytest

from fluxpush.flux import (
    SUPPORTED,
    Alert,
    Bucket,
    DependsOn,
    GitRepository,
    HelmChart,
    HelmRelease,
    HelmRepository,
    ImagePolicy,
    ImageRepository,
    ImageUpdateAutomation,
    Kustomization,
    ObjectRef,
    OCIRepository,
    Provider,
    SourceRef,
    is_flux_object,
    parse_flux_object,
)

# A minimal valid spec per kind; every supported version of the kind must accept it.
HELM_REPOSITORY_REF = {"kind": "HelmRepository", "name": "r"}
MINIMAL_SPECS = {
    "Kustomization": {"interval": "10m", "prune": True, "sourceRef": {"kind": "GitRepository", "name": "x"}},
    "HelmRelease": {"interval": "5m", "chart": {"spec": {"chart": "p", "sourceRef": HELM_REPOSITORY_REF}}},
    "GitRepository": {"interval": "1m", "url": "https://github.com/org/repo"},
    "HelmRepository": {"url": "https://charts.example.com"},
    "OCIRepository": {"interval": "1m", "url": "oci://ghcr.io/org/manifests"},
    "Bucket": {"interval": "1m", "bucketName": "b", "endpoint": "s3.amazonaws.com"},
    "HelmChart": {"interval": "1m", "chart": "podinfo", "sourceRef": HELM_REPOSITORY_REF},
    "Provider": {"type": "slack", "channel": "#ops"},
    "Alert": {"providerRef": {"name": "slack"}, "eventSources": [{"kind": "Kustomization", "name": "*"}]},
    "ImageRepository": {"interval": "5m", "image": "ghcr.io/org/app"},
    "ImagePolicy": {"imageRepositoryRef": {"name": "app"}, "policy": {"semver": {"range": ">=1.0.0"}}},
    "ImageUpdateAutomation": {"interval": "30m", "sourceRef": {"kind": "GitRepository", "name": "x"}},
}
CLASSES = {
    "Kustomization": Kustomization, "HelmRelease": HelmRelease, "GitRepository": GitRepository,
    "HelmRepository": HelmRepository, "OCIRepository": OCIRepository, "Bucket": Bucket,
    "HelmChart": HelmChart, "Provider": Provider, "Alert": Alert, "ImageRepository": ImageRepository,
    "ImagePolicy": ImagePolicy, "ImageUpdateAutomation": ImageUpdateAutomation,
}


@pytest.mark.parametrize(
    ("group", "kind", "version"),
    [(group, kind, version) for (group, kind), versions in SUPPORTED.items() for version in versions],
)
def test_every_supported_version_parses(group: str, kind: str, version: str) -> None:
    data = {"apiVersion": f"{group}/{version}", "kind": kind,
            "metadata": {"name": "demo", "namespace": "apps"}, "spec": MINIMAL_SPECS[kind]}
    obj = parse_flux_object(data)
    assert isinstance(obj, CLASSES[kind])
    assert obj.ref == ObjectRef(kind, "apps", "demo")
    assert obj.api_version == f"{group}/{version}"


def test_object_ref_prints_and_orders() -> None:
    assert str(ObjectRef("Kustomization", "flux-system", "apps")) == "Kustomization/flux-system/apps"
    assert str(ObjectRef("Namespace", "", "apps")) == "Namespace/apps"
    assert sorted([ObjectRef("B", "a", "x"), ObjectRef("A", "b", "y")])[0].kind == "A"


def test_is_flux_object() -> None:
    assert is_flux_object({"apiVersion": "kustomize.toolkit.fluxcd.io/v1"})
    assert is_flux_object({"apiVersion": "fluxcd.controlplane.io/v1"}) is False
    assert is_flux_object({"apiVersion": "swarm.toolkit.fluxcd.io/v1alpha1"})
    assert is_flux_object({"apiVersion": "v1", "kind": "ConfigMap"}) is False
    assert is_flux_object(["not", "a", "mapping"]) is False


def test_kustomization_fields_and_namespace_defaults(parse) -> None:
    ks = parse("""
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: apps, namespace: flux-system}
        spec:
          interval: 5m
          prune: true
          sourceRef: {kind: GitRepository, name: repo}
          dependsOn:
            - name: infra
            - {name: crds, namespace: kube-system, readyExpr: "dep.status.ready"}
          targetNamespace: apps
          patches:
            - patch: '[{"op": "remove", "path": "/spec/replicas"}]'
              target: {kind: Deployment, labelSelector: "app=web"}
          images: [{name: nginx, newTag: "1.27"}]
          commonMetadata: {labels: {team: a}}
          postBuild:
            substitute: {cluster: dev, replicas: "3"}
            substituteFrom: [{kind: ConfigMap, name: vars}, {kind: Secret, name: s, optional: true}]
    """)
    assert isinstance(ks, Kustomization)
    assert ks.path == ""
    assert ks.source_ref == SourceRef("GitRepository", "repo", "flux-system")
    assert ks.depends_on == (DependsOn("infra", "flux-system", None),
                             DependsOn("crds", "kube-system", "dep.status.ready"))
    assert ks.patches[0].target == {"kind": "Deployment", "labelSelector": "app=web"}
    assert ks.images[0].new_tag == "1.27" and ks.images[0].new_name is None
    assert ks.common_metadata is not None and ks.common_metadata.annotations == {}
    assert ks.post_build is not None and ks.post_build.strategy == "WithVariables"
    assert ks.post_build.substitute == {"cluster": "dev", "replicas": "3"}
    assert [s.optional for s in ks.post_build.substitute_from] == [False, True]
    assert (ks.suspend, ks.wait, ks.force, ks.timeout) == (False, False, False, None)
    assert ks.origin is not None and ks.origin.path == "obj.yaml"


@pytest.mark.parametrize(("interval", "timeout", "expected"),
                         [("5m", None, "4m30s"), ("30s", None, "30s"), ("45s", None, "30s"),
                          ("1h", None, "59m30s"), ("5m", "2m", "2m")])
def test_kustomization_effective_timeout(interval: str, timeout: str | None, expected: str) -> None:
    spec = {**MINIMAL_SPECS["Kustomization"], "interval": interval}
    if timeout:
        spec["timeout"] = timeout
    ks = parse_flux_object({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                            "metadata": {"name": "a", "namespace": "b"}, "spec": spec})
    assert isinstance(ks, Kustomization)
    assert ks.effective_timeout() == expected


def test_missing_namespace_is_default() -> None:
    obj = parse_flux_object({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                             "metadata": {"name": "repo"}, "spec": MINIMAL_SPECS["GitRepository"]})
    assert isinstance(obj, GitRepository)
    assert str(obj.ref) == "GitRepository/default/repo"
    assert obj.git_ref == {"branch": "master"}


def _helm_release(name: str, **spec: object) -> HelmRelease:
    obj = parse_flux_object({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                             "metadata": {"name": name, "namespace": "apps"},
                             "spec": {**MINIMAL_SPECS["HelmRelease"], **spec}})
    assert isinstance(obj, HelmRelease)
    return obj


def test_helmrelease_defaults() -> None:
    hr = _helm_release("podinfo", valuesFrom=[{"kind": "ConfigMap", "name": "vals"}],
                       dependsOn=[{"name": "redis"}])
    assert hr.release_name == "podinfo"
    assert (hr.target_namespace, hr.storage_namespace) == ("apps", "apps")
    assert hr.chart is not None and hr.chart.source_ref == SourceRef("HelmRepository", "r", "apps")
    assert hr.chart.version is None and hr.chart.reconcile_strategy == "ChartVersion"
    assert hr.values_from[0].values_key == "values.yaml" and hr.values_from[0].optional is False
    assert hr.depends_on == (DependsOn("redis", "apps", None),)
    assert (hr.values, hr.install, hr.drift_detection, hr.max_history) == ({}, {}, None, None)


def test_helmrelease_release_name_uses_target_namespace() -> None:
    hr = _helm_release("podinfo", targetNamespace="web", storageNamespace="helm")
    assert (hr.release_name, hr.target_namespace, hr.storage_namespace) == ("web-podinfo", "web", "helm")
    assert _helm_release("podinfo", targetNamespace="web", releaseName="mine").release_name == "mine"


def test_helmrelease_long_release_name_is_shortened_like_helm_controller() -> None:
    target, name = "a-very-long-target-namespace-name", "and-an-equally-long-release-name"
    full = f"{target}-{name}"
    assert len(full) > 53
    hr = _helm_release(name, targetNamespace=target)
    assert hr.release_name == full[:40] + "-" + hashlib.sha256(full.encode()).hexdigest()[:12]
    assert len(hr.release_name) == 53
    at_limit = _helm_release("n" * 40, targetNamespace="t" * 12)
    assert at_limit.release_name == "t" * 12 + "-" + "n" * 40


def test_helmrelease_chart_ref_defaults_namespace() -> None:
    obj = parse_flux_object({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                             "metadata": {"name": "p", "namespace": "apps"},
                             "spec": {"interval": "5m", "chartRef": {"kind": "OCIRepository", "name": "p"}}})
    assert isinstance(obj, HelmRelease)
    assert obj.chart is None and obj.chart_ref == SourceRef("OCIRepository", "p", "apps")


def test_sources_notifications_and_images(parse) -> None:
    oci = parse("""
        apiVersion: source.toolkit.fluxcd.io/v1beta2
        kind: OCIRepository
        metadata: {name: m, namespace: flux-system}
        spec: {interval: 1m, url: "oci://ghcr.io/org/m", secretRef: {name: creds}}
    """)
    assert isinstance(oci, OCIRepository) and oci.oci_ref == {"tag": "latest"} and oci.secret_ref == "creds"
    repo = parse("""
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: HelmRepository
        metadata: {name: r, namespace: flux-system}
        spec: {type: oci, url: "oci://ghcr.io/charts", passCredentials: true}
    """)
    assert isinstance(repo, HelmRepository) and (repo.repo_type, repo.pass_credentials) == ("oci", True)
    alert = parse("""
        apiVersion: notification.toolkit.fluxcd.io/v1beta3
        kind: Alert
        metadata: {name: on-call, namespace: flux-system}
        spec:
          providerRef: {name: slack}
          eventSeverity: error
          eventSources: [{kind: HelmRelease, name: "*", namespace: apps}, {kind: Kustomization, name: "*"}]
    """)
    assert isinstance(alert, Alert) and alert.provider_ref == "slack"
    assert [s["namespace"] for s in alert.event_sources] == ["apps", "flux-system"]
    policy = parse("""
        apiVersion: image.toolkit.fluxcd.io/v1
        kind: ImagePolicy
        metadata: {name: app, namespace: apps}
        spec:
          imageRepositoryRef: {name: app}
          filterTags: {pattern: '^main-(?P<ts>[0-9]+)', extract: '$ts'}
          policy: {numerical: {order: asc}}
    """)
    assert isinstance(policy, ImagePolicy)
    assert policy.image_repository_ref == SourceRef("ImageRepository", "app", "apps")
    assert policy.filter_tags == {"pattern": "^main-(?P<ts>[0-9]+)", "extract": "$ts"}
    image_repo = parse_flux_object({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",
                                    "metadata": {"name": "app", "namespace": "apps"},
                                    "spec": MINIMAL_SPECS["ImageRepository"]})
    assert isinstance(image_repo, ImageRepository) and image_repo.exclusion_list == ("^.*\\.sig$",)
