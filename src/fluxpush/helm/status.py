"""Live status of each HelmRelease for `fluxpush get hr`: helm's latest stored revision (chart,
resolved version, revision, helm status) and fluxpush's stored Ready condition."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fluxpush.flux.model import ObjectRef
from fluxpush.helm.storage import latest_release
from fluxpush.kube import KubeClient
from fluxpush.nodes import AnyNode, is_helm_release
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.planner import read_inventory


def release_status(client: KubeClient, nodes: Iterable[AnyNode]) -> dict[ObjectRef, dict[str, Any]]:
    """Per HelmRelease node of `nodes`: chart, version, revision, helm status, Ready and its reason."""
    index = LiveIndex(client)
    status: dict[ObjectRef, dict[str, Any]] = {}
    for node in filter(is_helm_release, nodes):
        ref, hr = node.ref, node.spec
        release = latest_release(client, hr.release_name, hr.target_namespace)
        record = read_inventory(index, ref)
        ready = record.condition("Ready") if record else None
        status[ref] = {
            "release": f"{hr.target_namespace}/{hr.release_name}",
            "chart": release.chart_name if release else "",
            "version": release.chart_version if release else "",
            "revision": release.revision if release else 0,
            "status": release.status if release else "not installed",
            "ready": ready.status if ready else "Unknown",
            "reason": ready.reason if ready else "NotApplied",
        }
    return status
