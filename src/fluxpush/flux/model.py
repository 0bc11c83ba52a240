"""Typed Flux objects: frozen snake_case dataclasses parsed once from the camelCase wire dicts.

Every object keeps `raw` (the wire dict; for a HelmRelease the dict normalized to v2) and
`origin` (file and line). Objects hold dicts and are not hashable: key them by `ref`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fluxpush.errors import Origin
from fluxpush.flux.duration import format_duration, parse_duration

# Where the API server puts a namespaced object that names no namespace (kubectl's default).
DEFAULT_NAMESPACE = "default"

# kustomize-controller's floor for the derived timeout (interval - 30s, at least 30s).
MIN_DERIVED_TIMEOUT_SECONDS = 30.0


# (kind, namespace, name) → the object (a live or rendered one, as the caller serves it), or None.
ObjectLookup = Callable[[str, str, str], dict[str, Any] | None]


@dataclass(frozen=True, slots=True, order=True)
class ObjectRef:
    """A Kubernetes object's identity; prints as `Kind/namespace/name` (`Kind/name` if cluster-scoped)."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        if not self.namespace:
            return f"{self.kind}/{self.name}"
        return f"{self.kind}/{self.namespace}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> ObjectRef:
        """The reference `str()` printed (`Kind/namespace/name` or `Kind/name`); ValueError otherwise."""
        parts = text.split("/")
        if len(parts) == 2 and all(parts):
            return cls(parts[0], "", parts[1])
        if len(parts) == 3 and parts[0] and parts[2]:
            return cls(*parts)
        raise ValueError(f"not an object reference (Kind/namespace/name): {text!r}")


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A reference to a source (or chart) object; `namespace` defaults to the referrer's."""

    kind: str
    name: str
    namespace: str


@dataclass(frozen=True, slots=True)
class DependsOn:
    """One `dependsOn` entry; `namespace` defaults to the dependent's."""

    name: str
    namespace: str
    ready_expr: str | None


@dataclass(frozen=True, slots=True)
class SubstituteFrom:
    """A ConfigMap or Secret whose data keys become postBuild variables."""

    kind: str
    name: str
    optional: bool


@dataclass(frozen=True, slots=True)
class PostBuild:
    """`spec.postBuild` of a Kustomization."""

    substitute: dict[str, str]
    substitute_from: tuple[SubstituteFrom, ...]
    strategy: str


@dataclass(frozen=True, slots=True)
class Patch:
    """A kustomize patch; `target` stays camelCase, as kustomize reads it."""

    patch: str
    target: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Image:
    """A kustomize image override."""

    name: str
    new_name: str | None
    new_tag: str | None
    digest: str | None


@dataclass(frozen=True, slots=True)
class CommonMetadata:
    """Labels and annotations added to every object a node renders."""

    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass(frozen=True, slots=True)
class FluxBase:
    """Fields every Flux object has."""

    ref: ObjectRef
    api_version: str
    origin: Origin | None
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Kustomization(FluxBase):
    """`kustomize.toolkit.fluxcd.io` Kustomization; `path` is the spec value ("" when absent)."""

    path: str
    source_ref: SourceRef
    prune: bool
    suspend: bool
    wait: bool
    interval: str
    timeout: str | None
    retry_interval: str | None
    depends_on: tuple[DependsOn, ...]
    target_namespace: str | None
    name_prefix: str | None
    name_suffix: str | None
    patches: tuple[Patch, ...]
    patches_strategic_merge: tuple[dict[str, Any], ...]
    patches_json6902: tuple[dict[str, Any], ...]
    images: tuple[Image, ...]
    components: tuple[str, ...]
    ignore_missing_components: bool
    common_metadata: CommonMetadata | None
    post_build: PostBuild | None
    build_metadata: tuple[str, ...]
    decryption: dict[str, Any] | None
    kube_config: dict[str, Any] | None
    health_checks: tuple[dict[str, Any], ...]
    force: bool
    service_account_name: str | None

    def effective_timeout(self) -> str:
        """`spec.timeout`, or kustomize-controller's default: interval - 30s, at least 30s."""
        if self.timeout:
            return self.timeout
        seconds = parse_duration(self.interval) - MIN_DERIVED_TIMEOUT_SECONDS
        return format_duration(max(seconds, MIN_DERIVED_TIMEOUT_SECONDS))


@dataclass(frozen=True, slots=True)
class HelmChartTemplate:
    """`spec.chart.spec` of a HelmRelease (also the spec of a HelmChart)."""

    chart: str
    version: str | None
    source_ref: SourceRef
    values_files: tuple[str, ...]
    reconcile_strategy: str


@dataclass(frozen=True, slots=True)
class ValuesReference:
    """One `valuesFrom` entry of a HelmRelease."""

    kind: str
    name: str
    values_key: str
    target_path: str | None
    optional: bool


@dataclass(frozen=True, slots=True)
class HelmRelease(FluxBase):
    """`helm.toolkit.fluxcd.io` HelmRelease, normalized to v2 (`api_version` is the original).

    `target_namespace` and `storage_namespace` default to the HelmRelease's namespace;
    `release_name` is the name helm-controller gives the release.
    """

    release_name: str
    target_namespace: str
    storage_namespace: str
    chart: HelmChartTemplate | None
    chart_ref: SourceRef | None
    values: dict[str, Any]
    values_from: tuple[ValuesReference, ...]
    depends_on: tuple[DependsOn, ...]
    suspend: bool
    interval: str
    timeout: str | None
    max_history: int | None
    install: dict[str, Any]
    upgrade: dict[str, Any]
    test: dict[str, Any]
    rollback: dict[str, Any]
    uninstall: dict[str, Any]
    drift_detection: dict[str, Any] | None
    post_renderers: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class GitRepository(FluxBase):
    """`source.toolkit.fluxcd.io` GitRepository; `git_ref` defaults to `{branch: master}`."""

    url: str
    git_ref: dict[str, Any]
    ignore: str | None
    secret_ref: str | None
    include: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class OCIRepository(FluxBase):
    """`source.toolkit.fluxcd.io` OCIRepository; `oci_ref` defaults to `{tag: latest}`."""

    url: str
    oci_ref: dict[str, Any]
    ignore: str | None
    secret_ref: str | None


@dataclass(frozen=True, slots=True)
class HelmRepository(FluxBase):
    """`source.toolkit.fluxcd.io` HelmRepository; `repo_type` is "default" (HTTP) or "oci"."""

    url: str
    repo_type: str
    secret_ref: str | None
    pass_credentials: bool


@dataclass(frozen=True, slots=True)
class Bucket(FluxBase):
    """`source.toolkit.fluxcd.io` Bucket (S3-compatible object storage)."""

    bucket_name: str
    endpoint: str
    provider: str
    prefix: str | None
    ignore: str | None
    secret_ref: str | None


@dataclass(frozen=True, slots=True)
class HelmChart(FluxBase):
    """`source.toolkit.fluxcd.io` HelmChart (a `chartRef` target)."""

    chart: HelmChartTemplate


@dataclass(frozen=True, slots=True)
class Provider(FluxBase):
    """`notification.toolkit.fluxcd.io` Provider."""

    provider_type: str
    channel: str | None
    address: str | None
    secret_ref: str | None
    suspend: bool


@dataclass(frozen=True, slots=True)
class Alert(FluxBase):
    """`notification.toolkit.fluxcd.io` Alert; every event source carries its (defaulted) namespace."""

    provider_ref: str
    event_severity: str
    event_sources: tuple[dict[str, Any], ...]
    inclusion_list: tuple[str, ...]
    exclusion_list: tuple[str, ...]
    event_metadata: dict[str, str]
    summary: str | None
    suspend: bool


@dataclass(frozen=True, slots=True)
class ImageRepository(FluxBase):
    """`image.toolkit.fluxcd.io` ImageRepository."""

    image: str
    interval: str
    secret_ref: str | None
    provider: str
    exclusion_list: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImagePolicy(FluxBase):
    """`image.toolkit.fluxcd.io` ImagePolicy; `policy` is the camelCase `spec.policy`."""

    image_repository_ref: SourceRef
    policy: dict[str, Any]
    filter_tags: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ImageUpdateAutomation(FluxBase):
    """`image.toolkit.fluxcd.io` ImageUpdateAutomation (read through `raw` by fluxpush.images)."""


FluxObject = (
    Kustomization | HelmRelease | GitRepository | OCIRepository | HelmRepository | Bucket | HelmChart
    | Provider | Alert | ImageRepository | ImagePolicy | ImageUpdateAutomation
)


def kube_config_of(spec: FluxBase) -> dict[str, Any] | None:
    """`spec.kubeConfig` of a Kustomization or HelmRelease, when set."""
    value = (spec.raw.get("spec") or {}).get("kubeConfig")
    return value if isinstance(value, dict) and value else None


def describe_target(kube_config: dict[str, Any], namespace: str) -> str:
    """`Secret/<namespace>/<name>` or `ConfigMap/<namespace>/<name>`: where the cluster is described."""
    for kind, field in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
        ref = kube_config.get(field)
        if isinstance(ref, dict):
            return f"{kind}/{namespace}/{ref.get('name')}"
    return "an unrecognised reference"


def target_cluster(spec: FluxBase) -> str:
    """Where a node's objects go: "" for the current cluster, else the `spec.kubeConfig` reference."""
    kube_config = kube_config_of(spec)
    return describe_target(kube_config, spec.ref.namespace) if kube_config else ""
