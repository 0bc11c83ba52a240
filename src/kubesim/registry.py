"""The resource types a server serves: built-ins from the schema data, plus CRDs at run time."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from kubesim.schema import Node, crd_root, load_definitions

# Kinds that exist in the schema data but are not stored resources (reviews, subresource bodies).
NOT_STORED = {
    "Binding",
    "ComponentStatus",
    "Status",
    "Scale",
    "Eviction",
    "TokenRequest",
    "TokenReview",
    "SelfSubjectReview",
    "LocalSubjectAccessReview",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SubjectAccessReview",
}

# Cluster-scoped built-ins (everything else is namespaced); scope is not in the schema data.
CLUSTER_SCOPED = {
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "PriorityClass",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "RuntimeClass",
    "IngressClass",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "CertificateSigningRequest",
    "IPAddress",
    "ServiceCIDR",
    "DeviceClass",
    "ResourceSlice",
    "VolumeAttributesClass",
}

# Short names the real server advertises (kubectl resolves `cm`, `deploy`, … through discovery).
SHORT_NAMES = {
    "configmaps": ["cm"],
    "endpoints": ["ep"],
    "events": ["ev"],
    "limitranges": ["limits"],
    "namespaces": ["ns"],
    "nodes": ["no"],
    "persistentvolumeclaims": ["pvc"],
    "persistentvolumes": ["pv"],
    "pods": ["po"],
    "replicationcontrollers": ["rc"],
    "resourcequotas": ["quota"],
    "serviceaccounts": ["sa"],
    "services": ["svc"],
    "customresourcedefinitions": ["crd", "crds"],
    "daemonsets": ["ds"],
    "deployments": ["deploy"],
    "replicasets": ["rs"],
    "statefulsets": ["sts"],
    "horizontalpodautoscalers": ["hpa"],
    "cronjobs": ["cj"],
    "certificatesigningrequests": ["csr"],
    "ingresses": ["ing"],
    "networkpolicies": ["netpol"],
    "poddisruptionbudgets": ["pdb"],
    "priorityclasses": ["pc"],
    "storageclasses": ["sc"],
}

# Kinds without a `metadata.generation` (their writes never bump it).
NO_GENERATION = {
    "ConfigMap",
    "Secret",
    "Service",
    "ServiceAccount",
    "Namespace",
    "Endpoints",
    "Event",
    "Pod",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "Node",
    "Lease",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "EndpointSlice",
    "LimitRange",
    "ResourceQuota",
    "PodTemplate",
    "ControllerRevision",
}

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def plural_of(kind: str) -> str:
    """Lower-case plural resource name of a kind, with English rules like the real names."""
    lower = kind.lower()
    if lower == "endpoints":
        return lower
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    if re.search(r"(s|x|ch|sh)$", lower):
        return lower + "es"
    return lower + "s"


@dataclass(slots=True)
class ResourceType:
    """One served group/version/resource and what the server knows about it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    root: Node
    short_names: list[str] = field(default_factory=list)
    has_status: bool = False
    has_scale: bool = False
    tracks_generation: bool = True
    is_crd: bool = False
    categories: list[str] = field(default_factory=list)
    storage_version: str = ""

    @property
    def api_version(self) -> str:
        """`apps/v1`, or `v1` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        """The singular resource name."""
        return self.kind.lower()

    @property
    def scope(self) -> str:
        """`Namespaced` or `Cluster`, as discovery spells it."""
        return "Namespaced" if self.namespaced else "Cluster"


class Registry:
    """Thread-safe map of served resource types; CRDs are added and removed while serving."""

    def __init__(self, definitions: dict[str, Node] | None = None) -> None:
        self.definitions = definitions if definitions is not None else load_definitions()
        self._lock = threading.RLock()
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self._load_builtins()

    def _load_builtins(self) -> None:
        for name, node in self.definitions.items():
            for gvk in node.get("x-kubernetes-group-version-kind", []):
                kind, version = gvk["kind"], gvk["version"]
                if (
                    kind in NOT_STORED
                    or kind.endswith("List")
                    or "metadata" not in node.get("properties", {})
                ):
                    continue
                if not re.fullmatch(r"v\d+", version) or gvk["group"] == "internal.apiserver.k8s.io":
                    continue
                plural = plural_of(kind)
                self.add(
                    ResourceType(
                        group=gvk["group"],
                        version=version,
                        kind=kind,
                        plural=plural,
                        namespaced=kind not in CLUSTER_SCOPED,
                        root={"$ref": f"#/$defs/{name}"},
                        short_names=SHORT_NAMES.get(plural, []),
                        has_status="status" in node.get("properties", {}),
                        has_scale=kind
                        in {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"},
                        tracks_generation=kind not in NO_GENERATION,
                        categories=["all"]
                        if kind
                        in {
                            "Deployment",
                            "StatefulSet",
                            "DaemonSet",
                            "ReplicaSet",
                            "Job",
                            "CronJob",
                            "Pod",
                            "Service",
                            "ReplicationController",
                            "HorizontalPodAutoscaler",
                        }
                        else [],
                    )
                )

    def add(self, rtype: ResourceType) -> None:
        """Serve a resource type."""
        with self._lock:
            self._types[(rtype.group, rtype.version, rtype.plural)] = rtype

    def remove_group_resource(self, group: str, plural: str) -> None:
        """Stop serving every version of a group/resource (a CRD was deleted)."""
        with self._lock:
            for key in [k for k in self._types if k[0] == group and k[2] == plural]:
                del self._types[key]

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        """The type served at /apis/group/version/plural, if any."""
        with self._lock:
            return self._types.get((group, version, plural))

    def by_kind(self, group: str, version: str, kind: str) -> ResourceType | None:
        """The type for a group/version/kind, if served."""
        with self._lock:
            for rtype in self._types.values():
                if (rtype.group, rtype.version, rtype.kind) == (group, version, kind):
                    return rtype
        return None

    def all(self) -> list[ResourceType]:
        """Every served type, sorted by group, version and resource."""
        with self._lock:
            return sorted(self._types.values(), key=lambda t: (t.group, t.version, t.plural))

    def group_versions(self) -> dict[str, list[str]]:
        """Served versions per group, preferred (highest) first."""
        result: dict[str, list[str]] = {}
        for rtype in self.all():
            versions = result.setdefault(rtype.group, [])
            if rtype.version not in versions:
                versions.append(rtype.version)
        for versions in result.values():
            versions.sort(key=version_priority, reverse=True)
        return result


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version ordering: GA > beta > alpha, then by number."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (-1, 0, 0)
    stage = {"alpha": 0, "beta": 1, None: 2}[match.group(2)]
    return (stage, int(match.group(1)), int(match.group(3) or 0))


def crd_types(crd: dict[str, Any]) -> list[ResourceType]:
    """The resource types a CustomResourceDefinition object describes (served versions only)."""
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    result = []
    served = [v for v in spec.get("versions", []) if v.get("served", True)]
    storage = next((v["name"] for v in spec.get("versions", []) if v.get("storage")), "")
    for version in served:
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        result.append(
            ResourceType(
                group=spec.get("group", ""),
                version=version["name"],
                kind=names.get("kind", ""),
                plural=names.get("plural", ""),
                namespaced=spec.get("scope") == "Namespaced",
                root=crd_root(schema),
                short_names=list(names.get("shortNames", [])),
                has_status="status" in (version.get("subresources") or {}),
                has_scale="scale" in (version.get("subresources") or {}),
                tracks_generation=True,
                is_crd=True,
                categories=list(names.get("categories", [])),
                storage_version=storage,
            )
        )
    return result
