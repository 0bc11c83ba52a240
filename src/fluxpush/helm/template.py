"""Render a HelmRelease's chart with `helm template`, using the cluster's capabilities.

The kube version and API versions come from the cluster's discovery (so `.Capabilities` checks in
charts answer as they would on install); helm's own post-render mechanism runs fluxpush's
post-renderer (postRenderers, commonMetadata, origin labels), exactly as on install.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fluxpush.errors import RenderError
from fluxpush.flux.model import HelmRelease
from fluxpush.helm.session import HelmSession
from fluxpush.helm.sources import ResolvedChart
from fluxpush.kube import KubeClient
from fluxpush.runner import build_timeout
from fluxpush.yamldoc import load_documents

INSTALL_CRDS_DEFAULT = "Create"  # helm-controller's install.crds default
UPGRADE_CRDS_DEFAULT = "Skip"  # helm-controller's upgrade.crds default
# What helm itself adds to every object it installs (its ownership check reads them).
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
RELEASE_NAME_ANNOTATION = "meta.helm.sh/release-name"
RELEASE_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What `.Capabilities` reports: the kube version and the served group-versions."""

    kube_version: str
    api_versions: tuple[str, ...]


def cluster_capabilities(client: KubeClient) -> Capabilities:
    """The cluster's capabilities from discovery."""
    return Capabilities(client.api_resources.server_version(), tuple(client.api_resources.api_versions()))


def crd_policy(hr: HelmRelease, upgrading: bool) -> str:
    """`Skip`, `Create` or `CreateReplace` for the action about to run (install.skipCRDs honoured)."""
    if upgrading:
        return str(hr.upgrade.get("crds") or UPGRADE_CRDS_DEFAULT)
    if hr.install.get("skipCRDs"):
        return "Skip"
    return str(hr.install.get("crds") or INSTALL_CRDS_DEFAULT)


def post_render_config(hr: HelmRelease) -> dict[str, Any]:
    """What fluxpush's post-renderer does for `hr` (see `postrender`)."""
    steps = [r["kustomize"] for r in hr.post_renderers if isinstance(r.get("kustomize"), dict)]
    return {
        "kustomize": steps,
        "commonMetadata": (hr.raw.get("spec") or {}).get("commonMetadata") or {},
        "origin": {"name": hr.ref.name, "namespace": hr.ref.namespace},
    }


def with_ownership(obj: dict[str, Any], hr: HelmRelease) -> dict[str, Any]:
    """The object as helm writes it: its release annotations and `managed-by: Helm` label added."""
    meta = obj.setdefault("metadata", {})
    meta["labels"] = {**(meta.get("labels") or {}), MANAGED_BY_LABEL: "Helm"}
    meta["annotations"] = {**(meta.get("annotations") or {}), RELEASE_NAME_ANNOTATION: hr.release_name,
                           RELEASE_NAMESPACE_ANNOTATION: hr.target_namespace}
    return obj


def render_release(session: HelmSession, hr: HelmRelease, chart: ResolvedChart, values: dict[str, Any],
                   capabilities: Capabilities, *, upgrading: bool) -> list[dict[str, Any]]:
    """The objects the release would hold (CRDs from `crds/` included unless the policy is `Skip`)."""
    argv = ["template", hr.release_name, str(chart.path), "--namespace", hr.target_namespace,
            "-f", str(session.write_values(values)), *session.post_renderer(post_render_config(hr))]
    if capabilities.kube_version:
        argv += ["--kube-version", capabilities.kube_version]
    for api_version in capabilities.api_versions:
        argv += ["--api-versions", api_version]
    if crd_policy(hr, upgrading) != "Skip":
        argv.append("--include-crds")
    if upgrading:
        argv.append("--is-upgrade")
    out = session.run(*argv, node=str(hr.ref), what="helm template failed", timeout=build_timeout())
    objects = []
    for doc in load_documents(out.stdout, f"helm template output of {hr.ref}"):
        if isinstance(doc.data, dict) and doc.data.get("kind"):
            objects.append(with_ownership(doc.data, hr))
        elif doc.data is not None:
            raise RenderError("helm template produced a document that is not an object", node=str(hr.ref))
    return objects
