"""Schema problems: every one reported, with object, field path, line and what is expected."""

from __future__ import annotations

from fluxpush.errors import Origin, SchemaError
from fluxpush.flux import parse_flux_object, validate_flux_object
from fluxpush.flux.kinds import SUPPORTED, schema_name
from fluxpush.flux.validate import schema_validator

BROKEN_KUSTOMIZATION = """
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata:
      name: apps
      namespace: flux-system
    spec:
      interval: 5 minutes
      prune: yes
      sourceRef:
        kind: GitRepo
        name: repo
      dependsOn:
        - nmae: infra
      dependOn: []
      postBuild:
        substitute:
          replicas: 3
      patchesStrategicMerge: []
"""


def _by_field(errors: list[SchemaError]) -> dict[str, SchemaError]:
    return {error.field or "": error for error in errors}


def test_schemas_are_valid_draft_2020_12() -> None:
    for _, kind in SUPPORTED:
        validator = schema_validator(kind)
        validator.check_schema(validator.schema)
        assert validator.schema["$id"].endswith(schema_name(kind))


def test_all_problems_reported_with_fields_lines_and_expectations(problems) -> None:
    errors = _by_field(problems(BROKEN_KUSTOMIZATION))
    assert set(errors) == {
        "spec.interval", "spec.prune", "spec.sourceRef.kind", "spec.dependsOn[0].name",
        "spec.dependsOn[0].nmae", "spec.dependOn", "spec.postBuild.substitute.replicas",
        "spec.patchesStrategicMerge",
    }
    interval = errors["spec.interval"]
    assert interval.message == "expected a duration like 5m or 1h30m, got '5 minutes'"
    assert interval.origin == Origin("obj.yaml", 8)
    assert interval.obj == "Kustomization/flux-system/apps"
    assert errors["spec.prune"].message == "expected true or false, got string 'yes'"
    assert "GitRepository, OCIRepository, Bucket" in errors["spec.sourceRef.kind"].message
    assert errors["spec.dependsOn[0].name"].message == "required field is missing"
    assert errors["spec.dependsOn[0].name"].origin == Origin("obj.yaml", 14)
    assert errors["spec.dependOn"].hint == "did you mean 'dependsOn'?"
    assert errors["spec.dependOn"].origin == Origin("obj.yaml", 15)
    assert errors["spec.postBuild.substitute.replicas"].hint == "quote the value"
    assert "removed in v1" in errors["spec.patchesStrategicMerge"].message
    assert str(interval) == ("obj.yaml:8: Kustomization/flux-system/apps: spec.interval: "
                             "expected a duration like 5m or 1h30m, got '5 minutes'")


def test_parse_raises_the_first_problem() -> None:
    data = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "a", "namespace": "b"}, "spec": {"prune": True}}
    try:
        parse_flux_object(data, Origin("x.yaml", 3))
    except SchemaError as error:
        assert error.field == "spec.interval" and error.origin == Origin("x.yaml", 3)
    else:
        raise AssertionError("expected a SchemaError")


def test_unsupported_version_and_kind_name_the_supported_ones(problems) -> None:
    (version,) = problems("""
        apiVersion: helm.toolkit.fluxcd.io/v3
        kind: HelmRelease
        metadata: {name: p, namespace: apps}
        spec: {}
    """)
    assert version.field == "apiVersion" and version.origin == Origin("obj.yaml", 2)
    assert version.message.endswith("supported: helm.toolkit.fluxcd.io/v2, helm.toolkit.fluxcd.io/v2beta2, "
                                    "helm.toolkit.fluxcd.io/v2beta1")
    assert version.hint == "change apiVersion to helm.toolkit.fluxcd.io/v2"
    (kind,) = validate_flux_object({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "ExternalArtifact",
                                    "metadata": {"name": "a"}}, None)
    assert kind.field == "kind" and "GitRepository" in kind.message and kind.origin is None


def test_helmrelease_version_specific_rules(problems) -> None:
    errors = _by_field(problems("""
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: p, namespace: apps}
        spec:
          interval: 5m
          chart:
            spec: {chart: p, sourceRef: {kind: HelmRepository, name: r}, valuesFile: v.yaml}
          chartRef: {kind: OCIRepository, name: p}
          install: {crds: Replace}
          releaseName: a-release-name-that-is-far-too-long-for-helm-to-accept-at-all
    """))
    assert errors["spec"].message == "expected exactly one of chart or chartRef"
    assert errors["spec.chart.spec.valuesFile"].message == "removed in v2: use valuesFiles (a list)"
    assert errors["spec.chart.spec.valuesFile"].origin == Origin("obj.yaml", 8)
    assert errors["spec.install.crds"].message == ("expected one of Skip, Create, CreateReplace, "
                                                   "got string 'Replace'")
    assert errors["spec.releaseName"].message == "expected at most 53 character(s), got 61"
    old = problems("""
        apiVersion: helm.toolkit.fluxcd.io/v2beta1
        kind: HelmRelease
        metadata: {name: p}
        spec:
          interval: 5m
          chart: {spec: {chart: p, sourceRef: {kind: HelmRepository, name: r}, valuesFile: v.yaml}}
    """)
    assert old == []


def test_errors_in_other_kinds(problems) -> None:
    errors = problems("""
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata: {name: repo, namespace: flux-system}
        spec: {interval: 1m, url: "git@github.com:org/repo.git", ref: {branch: main, sha: abc}}
        ---
        apiVersion: notification.toolkit.fluxcd.io/v1beta3
        kind: Alert
        metadata: {name: a, namespace: flux-system}
        spec: {providerRef: {name: slack}, eventSeverity: warning, eventSources: [{kind: Pod, name: x}]}
        ---
        apiVersion: image.toolkit.fluxcd.io/v1
        kind: ImagePolicy
        metadata: {name: p, namespace: flux-system}
        spec: {imageRepositoryRef: {name: app}, policy: {}}
    """)
    assert [(e.obj, e.field) for e in errors] == [
        ("GitRepository/flux-system/repo", "spec.ref.sha"),
        ("GitRepository/flux-system/repo", "spec.url"),
        ("Alert/flux-system/a", "spec.eventSeverity"),
        ("Alert/flux-system/a", "spec.eventSources[0].kind"),
        ("ImagePolicy/flux-system/p", "spec.policy"),
    ]
    assert "scp-style" in errors[1].message
    assert errors[-1].message == "expected exactly one of semver, alphabetical or numerical"


def test_not_a_mapping() -> None:
    (error,) = validate_flux_object("text", Origin("f.yaml", 1))  # type: ignore[arg-type]
    assert error.message == "a Flux object must be a mapping" and error.obj is None
