"""HelmRelease v2beta1/v2beta2 objects are read into the v2 shape."""

from __future__ import annotations

import textwrap

import yaml

from fluxpush.flux import HelmRelease
from fluxpush.flux.convert import normalize_helmrelease

V2BETA1 = """
    apiVersion: helm.toolkit.fluxcd.io/v2beta1
    kind: HelmRelease
    metadata: {name: podinfo, namespace: apps}
    spec:
      interval: 5m
      chart:
        spec:
          chart: ./charts/podinfo
          sourceRef: {kind: GitRepository, name: repo, namespace: flux-system}
          valuesFile: values-base.yaml
          valuesFiles: [values-prod.yaml]
      install: {crds: CreateReplace, remediation: {retries: 3}}
      postRenderers:
        - kustomize:
            patches:
              - patch: '[{"op": "add", "path": "/metadata/labels/x", "value": "y"}]'
                target: {kind: Deployment}
            patchesStrategicMerge:
              - {apiVersion: apps/v1, kind: Deployment, metadata: {name: podinfo}, spec: {replicas: 2}}
            patchesJson6902:
              - target: {version: v1, kind: Service, name: podinfo}
                patch: [{op: remove, path: /spec/ports/1}]
            images: [{name: podinfo, newTag: "6.7.0"}]
"""


def test_v2beta1_is_normalized_to_v2(parse) -> None:
    hr = parse(V2BETA1)
    assert isinstance(hr, HelmRelease)
    assert hr.api_version == "helm.toolkit.fluxcd.io/v2beta1"
    assert hr.raw["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    assert hr.chart is not None
    assert hr.chart.values_files == ("values-base.yaml", "values-prod.yaml")
    assert "valuesFile" not in hr.raw["spec"]["chart"]["spec"]
    assert hr.chart.source_ref.namespace == "flux-system"
    assert hr.install == {"crds": "CreateReplace", "remediation": {"retries": 3}}
    kustomize = hr.post_renderers[0]["kustomize"]
    assert set(kustomize) == {"patches", "images"}
    strategic, inline, json6902 = kustomize["patches"]
    assert "target" not in strategic
    assert yaml.safe_load(strategic["patch"])["spec"] == {"replicas": 2}
    assert inline["target"] == {"kind": "Deployment"}
    assert json6902["target"] == {"version": "v1", "kind": "Service", "name": "podinfo"}
    assert yaml.safe_load(json6902["patch"]) == [{"op": "remove", "path": "/spec/ports/1"}]


def test_v2beta2_with_drift_detection_and_test_filters(parse) -> None:
    hr = parse("""
        apiVersion: helm.toolkit.fluxcd.io/v2beta2
        kind: HelmRelease
        metadata: {name: redis, namespace: data}
        spec:
          interval: 10m
          chart: {spec: {chart: redis, version: "18.x", sourceRef: {kind: HelmRepository, name: bitnami}}}
          driftDetection: {mode: warn, ignore: [{paths: [/spec/replicas], target: {kind: Deployment}}]}
          test: {enable: true, filters: [{name: smoke, exclude: true}]}
    """)
    assert isinstance(hr, HelmRelease)
    assert hr.raw["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    assert hr.drift_detection == {"mode": "warn", "ignore": [{"paths": ["/spec/replicas"],
                                                              "target": {"kind": "Deployment"}}]}
    assert hr.test["filters"] == [{"name": "smoke", "exclude": True}]
    assert hr.chart is not None and hr.chart.version == "18.x"


def test_v2_is_copied_unchanged_and_input_never_mutated() -> None:
    original = yaml.safe_load(textwrap.dedent(V2BETA1))
    snapshot = yaml.safe_dump(original)
    normalize_helmrelease(original)
    assert yaml.safe_dump(original) == snapshot
    v2 = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "spec": {"values": {"a": 1}}}
    copied = normalize_helmrelease(v2)
    assert copied == v2 and copied is not v2
