"""Which Flux API groups, kinds and versions fluxpush understands, and where their schemas live."""

from __future__ import annotations

from typing import Any

# Every Flux controller serves its CRDs under a `<controller>.toolkit.fluxcd.io` group.
FLUX_GROUP_SUFFIX = ".toolkit.fluxcd.io"

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
NOTIFICATION_GROUP = "notification.toolkit.fluxcd.io"
IMAGE_GROUP = "image.toolkit.fluxcd.io"

FLUX_GROUPS: frozenset[str] = frozenset(
    {KUSTOMIZE_GROUP, HELM_GROUP, SOURCE_GROUP, NOTIFICATION_GROUP, IMAGE_GROUP}
)

# (group, kind) -> accepted versions, newest first. Older versions are the ones Flux releases
# shipped and that repositories in the wild still carry (v2beta1 HelmReleases are common).
SUPPORTED: dict[tuple[str, str], tuple[str, ...]] = {
    (KUSTOMIZE_GROUP, "Kustomization"): ("v1", "v1beta2", "v1beta1"),
    (HELM_GROUP, "HelmRelease"): ("v2", "v2beta2", "v2beta1"),
    (SOURCE_GROUP, "GitRepository"): ("v1", "v1beta2"),
    (SOURCE_GROUP, "HelmRepository"): ("v1", "v1beta2", "v1beta1"),
    (SOURCE_GROUP, "OCIRepository"): ("v1", "v1beta2", "v1beta1"),
    (SOURCE_GROUP, "Bucket"): ("v1", "v1beta2"),
    (SOURCE_GROUP, "HelmChart"): ("v1", "v1beta2"),
    (NOTIFICATION_GROUP, "Provider"): ("v1beta3", "v1beta2", "v1beta1"),
    (NOTIFICATION_GROUP, "Alert"): ("v1beta3", "v1beta2", "v1beta1"),
    (IMAGE_GROUP, "ImageRepository"): ("v1", "v1beta2", "v1beta1"),
    (IMAGE_GROUP, "ImagePolicy"): ("v1", "v1beta2", "v1beta1"),
    (IMAGE_GROUP, "ImageUpdateAutomation"): ("v1", "v1beta2", "v1beta1"),
}


def split_api_version(api_version: str) -> tuple[str, str]:
    """`group/version` -> (group, version); the core group (`v1`) gives ("", "v1")."""
    group, _, version = api_version.rpartition("/")
    return group, version


def is_flux_object(data: Any) -> bool:
    """True for any object whose apiVersion group is a `*.toolkit.fluxcd.io` group."""
    if not isinstance(data, dict):
        return False
    api_version = data.get("apiVersion")
    if not isinstance(api_version, str):
        return False
    return split_api_version(api_version)[0].endswith(FLUX_GROUP_SUFFIX)


def supported_versions(group: str, kind: str) -> tuple[str, ...]:
    """Versions fluxpush accepts for a Flux kind; empty when the kind is not supported."""
    return SUPPORTED.get((group, kind), ())


def schema_name(kind: str) -> str:
    """File name (inside `schemas/`) of the JSON Schema covering every version of `kind`."""
    return f"{kind.lower()}.json"
