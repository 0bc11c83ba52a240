"""Object identity and the normalization Flux applies before comparing desired and live objects.

`normalize_object` works on either side of a comparison (a rendered object, a live object, a
dry-run result) and returns a new dict: server-set metadata dropped, `status` dropped, Secret
`stringData` folded into base64 `data`, `protocol: TCP` defaulted on container and Service ports
(flux-semantics §4.5). It never mutates its input.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from fluxpush.flux.model import ObjectRef

# Metadata the API server sets or that Flux's drift check ignores (flux-semantics §4.5, cluster §4.9).
SERVER_METADATA = (
    "managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink",
    "deletionTimestamp", "deletionGracePeriodSeconds",
)
# Annotations Flux removes from live objects in its metadata cleanup (flux-semantics §4.4 step 5).
CLEANUP_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration", "kustomize.toolkit.fluxcd.io/checksum",
    "fluxcd.io/sync-checksum",
)
CLEANUP_LABELS = ("fluxcd.io/sync-gc-mark",)
# Flux's per-object settings (flux-semantics §4.6): a label or an annotation, values case-insensitive.
RECONCILE_KEY = "kustomize.toolkit.fluxcd.io/reconcile"
SSA_KEY = "kustomize.toolkit.fluxcd.io/ssa"
PRUNE_KEY = "kustomize.toolkit.fluxcd.io/prune"
FORCE_KEY = "kustomize.toolkit.fluxcd.io/force"
# Flux's owner labels, set on every applied object (flux-semantics §4.1).
OWNER_NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
OWNER_NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"
# Kinds whose pod template lives at these paths; container ports get `protocol: TCP` by default.
_POD_SPEC_PATHS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
# RBAC names may hold `:` (system:controller:...), which Flux's inventory id encodes as `__`.
_RBAC_GROUP = "rbac.authorization.k8s.io"
_COLON_CODE = "__"


TypeKey = tuple[str, str]  # (apiVersion, kind): a served type, as discovery and LISTs know it


@dataclass(frozen=True, slots=True, order=True)
class ObjectId:
    """A Kubernetes object's identity: API group (empty for core), kind, namespace, name."""

    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    @property
    def ref(self) -> ObjectRef:
        """The object's `ObjectRef` (kind, namespace, name), as nodes, plans and records name it."""
        return ObjectRef(self.kind, self.namespace, self.name)

    @property
    def inventory_id(self) -> str:
        """Flux's inventory id `namespace_name_group_kind` (RBAC names: `:` written `__`)."""
        name = self.name.replace(":", _COLON_CODE) if self.group == _RBAC_GROUP else self.name
        return f"{self.namespace}_{name}_{self.group}_{self.kind}"

    @classmethod
    def from_inventory_id(cls, text: str) -> ObjectId:
        """Parse `namespace_name_group_kind`; raises ValueError on anything else."""
        namespace, sep, rest = text.partition("_")
        rest, sep2, kind = rest.rpartition("_")
        name, sep3, group = rest.rpartition("_")
        if not (sep and sep2 and sep3 and kind and name):
            raise ValueError(f"not a Flux inventory id: {text!r}")
        name = name.replace(_COLON_CODE, ":")  # decoded for every kind, as Flux's ParseObjMetadata does
        if "_" in name:
            raise ValueError(f"not a Flux inventory id (stray '_' in the name): {text!r}")
        return cls(group, kind, namespace, name)


def api_group(api_version: str) -> str:
    """`apps/v1` → `apps`, `v1` → `` (the core group)."""
    return api_version.rpartition("/")[0]


def api_version_part(api_version: str) -> str:
    """`apps/v1` → `v1`, `v1` → `v1`."""
    return api_version.rpartition("/")[2]


def object_id(obj: dict[str, Any]) -> ObjectId:
    """The identity of a wire object (`apiVersion`, `kind`, `metadata.namespace|name`)."""
    meta = obj.get("metadata") or {}
    return ObjectId(api_group(obj.get("apiVersion", "")), obj.get("kind", ""),
                    meta.get("namespace") or "", meta.get("name", ""))


def is_secret(obj: dict[str, Any] | None) -> bool:
    """Whether `obj` is a core v1 Secret."""
    return obj is not None and obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"


def has_setting(obj: dict[str, Any] | None, key: str, value: str) -> bool:
    """Whether `obj` carries label or annotation `key` equal to `value`, ignoring case."""
    meta = (obj or {}).get("metadata") or {}
    found = ((meta.get(field) or {}).get(key) for field in ("labels", "annotations"))
    return any(isinstance(v, str) and v.lower() == value.lower() for v in found)


def fold_string_data(obj: dict[str, Any]) -> None:
    """Move a Secret's `stringData` into base64 `data` in place (stringData wins, as on the server)."""
    string_data = obj.pop("stringData", None)
    if not string_data:
        return
    data = obj.setdefault("data", {}) or {}
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    obj["data"] = data


def _default_protocols(ports: Any) -> None:
    for port in ports if isinstance(ports, list) else ():
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    node: Any = obj
    for key in _POD_SPEC_PATHS.get(obj.get("kind", ""), ()):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) and node is not obj else None


def default_port_protocols(obj: dict[str, Any]) -> None:
    """Set `protocol: TCP` where omitted on container ports and Service ports, in place."""
    pod_spec = _pod_spec(obj)
    if pod_spec is not None:
        for list_name in _CONTAINER_LISTS:
            for container in pod_spec.get(list_name) or ():
                if isinstance(container, dict):
                    _default_protocols(container.get("ports"))
    if obj.get("kind") == "Service" and obj.get("apiVersion") == "v1":
        _default_protocols((obj.get("spec") or {}).get("ports"))


def copy_tree(value: Any) -> Any:
    """A deep copy of JSON-shaped data (mappings, lists, scalars), several times cheaper than
    `copy.deepcopy`, which also tracks every node against cycles such data cannot hold."""
    if isinstance(value, dict):
        return {key: copy_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_tree(item) for item in value]
    return value


def _drop_empty(meta: dict[str, Any], key: str) -> None:
    if key in meta and not meta[key]:
        del meta[key]


def normalize_object(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of `obj` as Flux compares it: see the module docstring."""
    out: dict[str, Any] = copy_tree(obj)
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in SERVER_METADATA:
            meta.pop(key, None)
        for key, names in (("annotations", CLEANUP_ANNOTATIONS), ("labels", CLEANUP_LABELS)):
            values = meta.get(key)
            if isinstance(values, dict):
                for name in names:
                    values.pop(name, None)
            _drop_empty(meta, key)
    if is_secret(out):
        fold_string_data(out)
    default_port_protocols(out)
    return out
