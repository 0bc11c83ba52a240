"""The per-node inventory fluxpush keeps in the cluster, in Flux's entry format.

Flux keeps `status.inventory.entries[]` (`{id: "<ns>_<name>_<group>_<Kind>", v: "<version>"}`) on
the Kustomization. With no Flux in the cluster, fluxpush stores the same entries, plus the last
applied and attempted revisions, the conditions (Ready with Flux's reasons), timings and the
suspend flag, in one ConfigMap (or Secret) per node in the node's namespace. The store object is
named from the node (`fluxpush-inventory-<kind>-<name>`, hashed when too long) and labelled
`fluxpush.io/inventory=true`, so `fluxpush get` can LIST them with one label selector. This module
only builds and reads those objects; the kube client writes them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fluxpush.flux.model import ObjectRef
from fluxpush.planning.normalize import ObjectId, api_version_part, object_id

INVENTORY_LABEL = "fluxpush.io/inventory"
INVENTORY_SELECTOR = f"{INVENTORY_LABEL}=true"  # what `fluxpush get` lists with
NODE_KIND_LABEL = "fluxpush.io/node-kind"
NODE_NAME_LABEL = "fluxpush.io/node-name"
MANAGED_BY = ("app.kubernetes.io/managed-by", "fluxpush")
NODE_ANNOTATION = "fluxpush.io/node"
NAME_PREFIX = "fluxpush-inventory-"
# Kept to a DNS label (63) rather than the 253 a ConfigMap allows, so the name also fits a label value.
MAX_NAME = 63
HASH_CHARS = 10
FORMAT = "1"  # bump when the stored payload changes shape
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")

# Flux's condition reasons (fluxcd/pkg/apis/meta and kustomize-controller).
RECONCILIATION_SUCCEEDED = "ReconciliationSucceeded"
RECONCILIATION_FAILED = "ReconciliationFailed"
DEPENDENCY_NOT_READY = "DependencyNotReady"
HEALTH_CHECK_FAILED = "HealthCheckFailed"
PROGRESSING = "Progressing"
PROGRESSING_WITH_RETRY = "ProgressingWithRetry"
BUILD_FAILED = "BuildFailed"
ARTIFACT_FAILED = "ArtifactFailed"
PRUNE_FAILED = "PruneFailed"


@dataclass(frozen=True, slots=True, order=True)
class InventoryEntry:
    """One inventory item: the object's identity and its API version (`v1`, `v2`)."""

    id: ObjectId
    version: str

    @property
    def api_version(self) -> str:
        """The apiVersion to address the object with (`apps/v1`, `v1`)."""
        return f"{self.id.group}/{self.version}" if self.id.group else self.version

    def to_wire(self) -> dict[str, str]:
        """Flux's `{id, v}` form."""
        return {"id": self.id.inventory_id, "v": self.version}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> InventoryEntry:
        """Read `{id, v}`; raises ValueError on a malformed id."""
        return cls(ObjectId.from_inventory_id(str(data["id"])), str(data.get("v", "")))


def entries_from_objects(objects: Iterable[dict[str, Any]]) -> tuple[InventoryEntry, ...]:
    """Inventory entries for applied objects, one per identity, sorted by id."""
    found = {object_id(obj): api_version_part(obj.get("apiVersion", "")) for obj in objects}
    return tuple(sorted(InventoryEntry(oid, version) for oid, version in found.items()))


@dataclass(frozen=True, slots=True)
class Condition:
    """A `metav1.Condition`: type, status (`True`/`False`/`Unknown`), reason, message, time."""

    type: str
    status: str
    reason: str
    message: str
    last_transition_time: str

    def to_wire(self) -> dict[str, str]:
        """The camelCase form Kubernetes uses."""
        return {"type": self.type, "status": self.status, "reason": self.reason, "message": self.message,
                "lastTransitionTime": self.last_transition_time}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Condition:
        """Read the camelCase form."""
        return cls(data["type"], data["status"], data.get("reason", ""), data.get("message", ""),
                   data.get("lastTransitionTime", ""))


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with whole seconds, as Kubernetes (`metav1.Time`) writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ready_condition(ready: bool | None, reason: str, message: str, at: datetime) -> Condition:
    """The `Ready` condition: True, False, or Unknown (None) while in progress."""
    status = "Unknown" if ready is None else str(ready)
    return Condition("Ready", status, reason, message, format_time(at))


@dataclass(frozen=True, slots=True)
class InventoryRecord:
    """What fluxpush stores per node; times are RFC 3339 strings, `duration_seconds` of the last attempt."""

    node: ObjectRef
    entries: tuple[InventoryEntry, ...] = ()
    last_applied_revision: str = ""
    last_attempted_revision: str = ""
    conditions: tuple[Condition, ...] = ()
    started_at: str = ""
    finished_at: str = ""
    duration_seconds: float | None = None
    suspended: bool = False
    # What removing the node from Git does (see planning/removal.py): Delete, WaitForTermination,
    # Orphan or Keep, and why; "" when the record predates it (nothing is then deleted).
    deletion_policy: str = ""
    deletion_reason: str = ""
    release: str = ""  # a HelmRelease's helm release, `namespace/name`
    cluster: str = ""  # spec.kubeConfig: `Secret/ns/name` of the cluster its objects went to

    @property
    def ids(self) -> frozenset[ObjectId]:
        """The identities in the inventory."""
        return frozenset(entry.id for entry in self.entries)

    def condition(self, kind: str) -> Condition | None:
        """The condition of that type, if recorded."""
        return next((c for c in self.conditions if c.type == kind), None)


def inventory_name(node: ObjectRef) -> str:
    """`fluxpush-inventory-<kind>-<name>`; longer than 63 characters → cut, plus a hash of the node."""
    name = f"{NAME_PREFIX}{node.kind.lower()}-{node.name}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(str(node).encode()).hexdigest()[:HASH_CHARS]
    return f"{name[: MAX_NAME - HASH_CHARS - 1].rstrip('-.')}-{digest}"


def inventory_labels(node: ObjectRef) -> dict[str, str]:
    """Labels of the store object; the node name only when it is a valid label value."""
    labels = {INVENTORY_LABEL: "true", NODE_KIND_LABEL: node.kind.lower(), MANAGED_BY[0]: MANAGED_BY[1]}
    if _LABEL_VALUE.match(node.name):
        labels[NODE_NAME_LABEL] = node.name
    return labels


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _payload(record: InventoryRecord) -> dict[str, str]:
    node = record.node
    timings = {"startedAt": record.started_at, "finishedAt": record.finished_at,
               "durationSeconds": record.duration_seconds}
    return {
        "format": FORMAT,
        "node": _compact({"kind": node.kind, "namespace": node.namespace, "name": node.name}),
        "entries": _compact([e.to_wire() for e in record.entries]),
        "lastAppliedRevision": record.last_applied_revision,
        "lastAttemptedRevision": record.last_attempted_revision,
        "conditions": _compact([c.to_wire() for c in record.conditions]),
        "timings": _compact(timings),
        "suspend": "true" if record.suspended else "false",
        "deletionPolicy": record.deletion_policy,
        "deletionReason": record.deletion_reason,
        "release": record.release,
        **({"cluster": record.cluster} if record.cluster else {}),
    }


def encode_inventory(record: InventoryRecord, *, kind: str = "ConfigMap") -> dict[str, Any]:
    """The ConfigMap (or Secret) manifest holding `record`, in the node's namespace."""
    if kind not in ("ConfigMap", "Secret"):
        raise ValueError(f"an inventory is stored in a ConfigMap or a Secret, not a {kind}")
    payload = _payload(record)
    meta = {"name": inventory_name(record.node), "namespace": record.node.namespace,
            "labels": inventory_labels(record.node), "annotations": {NODE_ANNOTATION: str(record.node)}}
    if kind == "Secret":
        data = {key: base64.b64encode(value.encode()).decode() for key, value in payload.items()}
        return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque", "data": data}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": payload}


def decode_inventory(obj: dict[str, Any]) -> InventoryRecord:
    """Read a store object written by `encode_inventory`; raises ValueError naming it when malformed."""
    where = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('namespace')}/" \
            f"{(obj.get('metadata') or {}).get('name')}"
    data = dict(obj.get("data") or {})
    try:
        if obj.get("kind") == "Secret":
            data = {key: base64.b64decode(value).decode() for key, value in data.items()}
        if data.get("format") != FORMAT:
            raise ValueError(f"inventory format {data.get('format')!r}, expected {FORMAT!r}")
        node = json.loads(data["node"])
        timings = json.loads(data.get("timings") or "{}")
        return InventoryRecord(
            node=ObjectRef(node["kind"], node["namespace"], node["name"]),
            entries=tuple(InventoryEntry.from_wire(e) for e in json.loads(data["entries"])),
            last_applied_revision=data.get("lastAppliedRevision", ""),
            last_attempted_revision=data.get("lastAttemptedRevision", ""),
            conditions=tuple(Condition.from_wire(c) for c in json.loads(data.get("conditions") or "[]")),
            started_at=timings.get("startedAt", ""),
            finished_at=timings.get("finishedAt", ""),
            duration_seconds=timings.get("durationSeconds"),
            suspended=data.get("suspend") == "true",
            deletion_policy=data.get("deletionPolicy", ""),
            deletion_reason=data.get("deletionReason", ""),
            release=data.get("release", ""),
            cluster=data.get("cluster", ""),
        )
    except (KeyError, TypeError, ValueError) as exc:  # json and base64 errors are ValueErrors
        raise ValueError(f"{where}: not a fluxpush inventory: {exc}") from exc
