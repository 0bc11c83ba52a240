"""Wire dict -> typed Flux object. Objects are validated first, so parsers may trust the shape."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from fluxpush.errors import Origin
from fluxpush.flux.convert import normalize_helmrelease
from fluxpush.flux.model import (
    Alert,
    Bucket,
    CommonMetadata,
    DependsOn,
    FluxObject,
    GitRepository,
    HelmChart,
    HelmChartTemplate,
    HelmRelease,
    HelmRepository,
    Image,
    ImagePolicy,
    ImageRepository,
    ImageUpdateAutomation,
    Kustomization,
    ObjectRef,
    OCIRepository,
    Patch,
    PostBuild,
    Provider,
    SourceRef,
    SubstituteFrom,
    ValuesReference,
)
from fluxpush.flux.validate import Locate, object_ref, validate_flux_object

# Helm refuses release names longer than 53 characters; helm-controller then keeps the first 40,
# a dash and 12 hex digits of the SHA-256 of the full name (40 + 1 + 12 = 53).
MAX_RELEASE_NAME = 53
RELEASE_NAME_HASH_LENGTH = 12

# image-reflector-controller skips cosign signature tags unless told otherwise.
DEFAULT_IMAGE_EXCLUSIONS = ("^.*\\.sig$",)

Common = dict[str, Any]  # the FluxBase keyword arguments: ref, api_version, origin, raw


def shorten_release_name(name: str) -> str:
    """helm-controller's rule for names over 53 characters (unchanged otherwise)."""
    if len(name) <= MAX_RELEASE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:RELEASE_NAME_HASH_LENGTH]
    return f"{name[: MAX_RELEASE_NAME - RELEASE_NAME_HASH_LENGTH - 1]}-{digest}"


def _secret_name(spec: dict[str, Any]) -> str | None:
    return (spec.get("secretRef") or {}).get("name")


def _source_ref(data: dict[str, Any], namespace: str, kind: str | None = None) -> SourceRef:
    return SourceRef(kind or data["kind"], data["name"], data.get("namespace") or namespace)


def _depends_on(spec: dict[str, Any], namespace: str) -> tuple[DependsOn, ...]:
    return tuple(DependsOn(item["name"], item.get("namespace") or namespace, item.get("readyExpr"))
                 for item in spec.get("dependsOn") or [])


def _common_metadata(data: dict[str, Any] | None) -> CommonMetadata | None:
    if data is None:
        return None
    return CommonMetadata(dict(data.get("labels") or {}), dict(data.get("annotations") or {}))


def _post_build(data: dict[str, Any] | None) -> PostBuild | None:
    if data is None:
        return None
    return PostBuild(
        substitute={key: str(value) for key, value in (data.get("substitute") or {}).items()},
        substitute_from=tuple(SubstituteFrom(item["kind"], item["name"], bool(item.get("optional")))
                              for item in data.get("substituteFrom") or []),
        strategy=data.get("substituteStrategy", "WithVariables"),
    )


def _chart_template(spec: dict[str, Any], namespace: str) -> HelmChartTemplate:
    return HelmChartTemplate(
        chart=spec["chart"],
        version=spec.get("version"),
        source_ref=_source_ref(spec["sourceRef"], namespace),
        values_files=tuple(spec.get("valuesFiles") or []),
        reconcile_strategy=spec.get("reconcileStrategy", "ChartVersion"),
    )


def _kustomization(spec: dict[str, Any], common: Common) -> Kustomization:
    namespace = common["ref"].namespace
    return Kustomization(
        **common,
        path=spec.get("path", ""),
        source_ref=_source_ref(spec["sourceRef"], namespace),
        prune=spec["prune"],
        suspend=spec.get("suspend", False),
        wait=spec.get("wait", False),
        interval=spec["interval"],
        timeout=spec.get("timeout"),
        retry_interval=spec.get("retryInterval"),
        depends_on=_depends_on(spec, namespace),
        target_namespace=spec.get("targetNamespace"),
        name_prefix=spec.get("namePrefix"),
        name_suffix=spec.get("nameSuffix"),
        patches=tuple(Patch(item["patch"], item.get("target")) for item in spec.get("patches") or []),
        patches_strategic_merge=tuple(spec.get("patchesStrategicMerge") or []),
        patches_json6902=tuple(spec.get("patchesJson6902") or []),
        images=tuple(Image(item["name"], item.get("newName"), item.get("newTag"), item.get("digest"))
                     for item in spec.get("images") or []),
        components=tuple(spec.get("components") or []),
        ignore_missing_components=spec.get("ignoreMissingComponents", False),
        common_metadata=_common_metadata(spec.get("commonMetadata")),
        post_build=_post_build(spec.get("postBuild")),
        build_metadata=tuple(spec.get("buildMetadata") or []),
        decryption=spec.get("decryption"),
        kube_config=spec.get("kubeConfig"),
        health_checks=tuple(spec.get("healthChecks") or []),
        force=spec.get("force", False),
        service_account_name=spec.get("serviceAccountName"),
    )


def _helm_release(spec: dict[str, Any], common: Common) -> HelmRelease:
    ref: ObjectRef = common["ref"]
    target = spec.get("targetNamespace")
    default_name = f"{target}-{ref.name}" if target else ref.name
    chart = spec.get("chart")
    chart_ref = spec.get("chartRef")
    return HelmRelease(
        **common,
        release_name=shorten_release_name(spec.get("releaseName") or default_name),
        target_namespace=target or ref.namespace,
        storage_namespace=spec.get("storageNamespace") or ref.namespace,
        chart=_chart_template(chart["spec"], ref.namespace) if chart else None,
        chart_ref=_source_ref(chart_ref, ref.namespace) if chart_ref else None,
        values=dict(spec.get("values") or {}),
        values_from=tuple(
            ValuesReference(item["kind"], item["name"], item.get("valuesKey") or "values.yaml",
                            item.get("targetPath"), item.get("optional", False))
            for item in spec.get("valuesFrom") or []
        ),
        depends_on=_depends_on(spec, ref.namespace),
        suspend=spec.get("suspend", False),
        interval=spec["interval"],
        timeout=spec.get("timeout"),
        max_history=spec.get("maxHistory"),
        install=dict(spec.get("install") or {}),
        upgrade=dict(spec.get("upgrade") or {}),
        test=dict(spec.get("test") or {}),
        rollback=dict(spec.get("rollback") or {}),
        uninstall=dict(spec.get("uninstall") or {}),
        drift_detection=spec.get("driftDetection"),
        post_renderers=tuple(spec.get("postRenderers") or []),
    )


def _git_repository(spec: dict[str, Any], common: Common) -> GitRepository:
    return GitRepository(
        **common, url=spec["url"], git_ref=dict(spec.get("ref") or {"branch": "master"}),
        ignore=spec.get("ignore"), secret_ref=_secret_name(spec), include=tuple(spec.get("include") or []),
    )


def _oci_repository(spec: dict[str, Any], common: Common) -> OCIRepository:
    return OCIRepository(
        **common, url=spec["url"], oci_ref=dict(spec.get("ref") or {"tag": "latest"}),
        ignore=spec.get("ignore"), secret_ref=_secret_name(spec),
    )


def _helm_repository(spec: dict[str, Any], common: Common) -> HelmRepository:
    return HelmRepository(
        **common, url=spec["url"], repo_type=spec.get("type", "default"), secret_ref=_secret_name(spec),
        pass_credentials=spec.get("passCredentials", False),
    )


def _bucket(spec: dict[str, Any], common: Common) -> Bucket:
    return Bucket(
        **common, bucket_name=spec["bucketName"], endpoint=spec["endpoint"],
        provider=spec.get("provider", "generic"), prefix=spec.get("prefix"), ignore=spec.get("ignore"),
        secret_ref=_secret_name(spec),
    )


def _helm_chart(spec: dict[str, Any], common: Common) -> HelmChart:
    return HelmChart(**common, chart=_chart_template(spec, common["ref"].namespace))


def _provider(spec: dict[str, Any], common: Common) -> Provider:
    return Provider(
        **common, provider_type=spec["type"], channel=spec.get("channel"), address=spec.get("address"),
        secret_ref=_secret_name(spec), suspend=spec.get("suspend", False),
    )


def _alert(spec: dict[str, Any], common: Common) -> Alert:
    namespace = common["ref"].namespace
    return Alert(
        **common,
        provider_ref=spec["providerRef"]["name"],
        event_severity=spec.get("eventSeverity", "info"),
        event_sources=tuple({**item, "namespace": item.get("namespace") or namespace}
                            for item in spec["eventSources"]),
        inclusion_list=tuple(spec.get("inclusionList") or []),
        exclusion_list=tuple(spec.get("exclusionList") or []),
        event_metadata=dict(spec.get("eventMetadata") or {}),
        summary=spec.get("summary"),
        suspend=spec.get("suspend", False),
    )


def _image_repository(spec: dict[str, Any], common: Common) -> ImageRepository:
    exclusions = spec.get("exclusionList")
    return ImageRepository(
        **common, image=spec["image"], interval=spec["interval"], secret_ref=_secret_name(spec),
        provider=spec.get("provider", "generic"),
        exclusion_list=tuple(exclusions) if exclusions is not None else DEFAULT_IMAGE_EXCLUSIONS,
    )


def _image_policy(spec: dict[str, Any], common: Common) -> ImagePolicy:
    return ImagePolicy(
        **common,
        image_repository_ref=_source_ref(spec["imageRepositoryRef"], common["ref"].namespace,
                                         kind="ImageRepository"),
        policy=dict(spec["policy"]),
        filter_tags=spec.get("filterTags"),
    )


# kind -> parser of the (validated, for HelmRelease normalized) spec.
PARSERS: dict[str, Callable[[dict[str, Any], Common], FluxObject]] = {
    "Kustomization": _kustomization,
    "HelmRelease": _helm_release,
    "GitRepository": _git_repository,
    "OCIRepository": _oci_repository,
    "HelmRepository": _helm_repository,
    "Bucket": _bucket,
    "HelmChart": _helm_chart,
    "Provider": _provider,
    "Alert": _alert,
    "ImageRepository": _image_repository,
    "ImagePolicy": _image_policy,
    "ImageUpdateAutomation": lambda spec, common: ImageUpdateAutomation(**common),
}


def parse_flux_object(data: dict[str, Any], origin: Origin | None = None,
                      locate: Locate | None = None) -> FluxObject:
    """Validate and parse one Flux object; raises the first SchemaError when it is invalid.

    Call `validate_flux_object` to get every problem. A missing `metadata.namespace` is taken as
    `default`, where the API server would put the object.
    """
    errors = validate_flux_object(data, origin, locate)
    if errors:
        raise errors[0]
    raw = normalize_helmrelease(data) if data["kind"] == "HelmRelease" else data
    return PARSERS[data["kind"]](raw["spec"], _common(data, raw, origin))


def _common(data: dict[str, Any], raw: dict[str, Any], origin: Origin | None) -> Common:
    return {"ref": object_ref(data), "api_version": data["apiVersion"], "origin": origin, "raw": raw}


def parse_kustomization(data: dict[str, Any], origin: Origin | None = None) -> Kustomization:
    """A Kustomization `validate_flux_object` found valid, parsed and typed as one."""
    return _kustomization(data["spec"], _common(data, data, origin))
