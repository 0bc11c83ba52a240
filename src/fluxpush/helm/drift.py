"""Objects as helm applies them, and helm-controller's drift detection (flux-semantics §9.5).

`place_objects` gives namespaced objects without a namespace the release's (helm does that at
apply time, `helm template` does not). `detect_drift` dry-runs the deployed revision's objects
as helm's field manager: anything that would change has drifted. Mode `enabled` re-applies those
objects, `warn` only reports them; objects labelled or annotated
`helm.toolkit.fluxcd.io/driftDetection: disabled` are left out, as are `driftDetection.ignore` rules'
targets (paths inside objects are not ignored field by field yet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fluxpush.errors import ClusterError
from fluxpush.flux.model import HelmRelease
from fluxpush.kube import KubeClient
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.options import PlanWay
from fluxpush.planning.plan import Action
from fluxpush.planning.planner import plan_objects

DISABLED_KEY = "helm.toolkit.fluxcd.io/driftDetection"
FIELD_MANAGER = "helm"  # the manager helm's server-side apply writes as


# Built-in cluster-scoped kinds, for placing objects when no cluster is there to ask (offline previews).
CLUSTER_SCOPED_KINDS = frozenset({
    "APIService", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding", "CSIDriver", "CSINode",
    "CustomResourceDefinition", "IngressClass", "MutatingWebhookConfiguration", "Namespace", "Node",
    "PersistentVolume", "PriorityClass", "RuntimeClass", "StorageClass", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration", "VolumeAttachment",
})


def cluster_namespaced(client: KubeClient) -> Callable[[dict[str, Any]], bool]:
    """Whether an object's kind is namespaced, by the cluster's discovery (unknown kinds: yes)."""
    def is_namespaced(obj: dict[str, Any]) -> bool:
        try:
            return client.resource_for(obj["apiVersion"], obj["kind"]).namespaced
        except ClusterError:
            return True  # a kind whose CRD the chart itself brings
    return is_namespaced


def offline_namespaced(obj: dict[str, Any]) -> bool:
    """Whether an object's kind is namespaced, without a cluster (`CLUSTER_SCOPED_KINDS`)."""
    return obj.get("kind") not in CLUSTER_SCOPED_KINDS


def place_objects(objects: list[dict[str, Any]], namespace: str,
                  is_namespaced: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Put namespaced objects that name no namespace into `namespace`, as helm does when it applies."""
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        if not meta.get("namespace") and is_namespaced(obj):
            meta["namespace"] = namespace
    return objects


def drift_mode(hr: HelmRelease) -> str:
    """`enabled`, `warn` or `disabled` (the default)."""
    return str((hr.drift_detection or {}).get("mode") or "disabled")


def _excluded(obj: dict[str, Any], hr: HelmRelease) -> bool:
    meta = obj.get("metadata") or {}
    marks = ((meta.get("labels") or {}).get(DISABLED_KEY), (meta.get("annotations") or {}).get(DISABLED_KEY))
    if "disabled" in marks:
        return True
    for rule in (hr.drift_detection or {}).get("ignore") or []:
        target = rule.get("target")
        if target and all(str(target.get(key)) == str(value) for key, value in
                          (("kind", obj.get("kind")), ("name", meta.get("name")),
                           ("namespace", meta.get("namespace"))) if key in target):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Drift:
    """The drifted objects (as `Kind/ns/name`) and whether they were corrected."""

    objects: tuple[str, ...]
    corrected: bool

    def message(self) -> str:
        if not self.objects:
            return ""
        action = "corrected" if self.corrected else "not corrected (driftDetection.mode: warn)"
        return f"drift detected in {len(self.objects)} object(s), {action}: {', '.join(self.objects)}"


def detect_drift(client: KubeClient, hr: HelmRelease, objects: list[dict[str, Any]]) -> Drift:
    """Compare the deployed objects with the cluster; re-apply the drifted ones in mode `enabled`."""
    checked = [o for o in objects if not _excluded(o, hr)]
    planned = plan_objects(checked, LiveIndex(client), PlanWay.SERVER, field_manager=FIELD_MANAGER)
    drifted = [p for p in planned if p.change.action in (Action.CREATE, Action.UPDATE)]
    corrected = drift_mode(hr) == "enabled"
    if corrected:
        for item in drifted:
            client.apply(item.desired, FIELD_MANAGER, force=True)
    return Drift(tuple(str(p.change.id) for p in drifted), corrected and bool(drifted))
