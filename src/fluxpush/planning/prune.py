"""Prune selection (flux-semantics §5.2) and fluxpush's guard against destructive prunes.

`select_prune` takes the stored inventory, the new desired set and the live objects of the stale
entries, and returns what to delete in Flux's order (the apply order reversed: webhooks and custom
kinds first, Namespaces and CRDs last), what to leave and why, and what is already gone. Like
Flux it never deletes an object whose live owner labels do not name this node, nor one that says
`prune: disabled`, `reconcile: disabled` or `ssa: Ignore`.

`check_prune_safety` goes beyond Flux: it refuses, unless allowed, a prune that would delete more
than a share of a node's objects, or any Namespace, CRD or PersistentVolumeClaim (flux-semantics
§5.3: deleting those cascades or loses data).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fluxpush.errors import InputError
from fluxpush.planning.apply_order import apply_sort_key
from fluxpush.planning.inventory import InventoryEntry
from fluxpush.planning.normalize import (
    OWNER_NAME_LABEL,
    OWNER_NAMESPACE_LABEL,
    PRUNE_KEY,
    RECONCILE_KEY,
    SSA_KEY,
    ObjectId,
    has_setting,
)

# Default share of a node's objects a prune may delete without an explicit allow.
DEFAULT_THRESHOLD = 0.5
# Below this many inventory objects the share rule is off (deleting 1 of 2 is routine).
MIN_OBJECTS = 4
# Deleting these cascades (Namespace → its objects, CRD → every custom resource) or loses data (PVC).
PROTECTED_KINDS = frozenset({("", "Namespace"), ("apiextensions.k8s.io", "CustomResourceDefinition"),
                             ("", "PersistentVolumeClaim")})
ALLOW_FLAG = "--allow-destructive-prune"
ALLOW_ANNOTATION = "fluxpush.io/allow-destructive-prune"  # on the Kustomization, value "true"


@dataclass(frozen=True, slots=True)
class PruneSkip:
    """A stale object left in place, and why."""

    id: ObjectId
    reason: str


@dataclass(frozen=True, slots=True)
class PruneSelection:
    """Stale objects to delete (in order), to leave, and already gone (Flux counts those deleted)."""

    delete: tuple[InventoryEntry, ...] = ()
    skipped: tuple[PruneSkip, ...] = ()
    gone: tuple[InventoryEntry, ...] = ()


class PruneRefusedError(InputError):
    """A prune the safety guard stopped; `objects` is everything it would have deleted."""

    def __init__(self, node: str, objects: tuple[ObjectId, ...], reasons: tuple[str, ...]) -> None:
        self.objects = objects
        self.reasons = reasons
        listing = ", ".join(str(oid) for oid in objects)
        super().__init__(
            f"refusing to prune: {'; '.join(reasons)}; would delete {len(objects)}: {listing}",
            obj=node,
            hint=f"pass {ALLOW_FLAG} or annotate the {node.split('/', 1)[0]} with "
                 f"{ALLOW_ANNOTATION}: \"true\" to allow it; to keep an object, label or annotate it "
                 f"{PRUNE_KEY}: disabled")


def kustomization_owner_labels(name: str, namespace: str) -> dict[str, str]:
    """Flux's owner labels of a Kustomization's objects."""
    return {OWNER_NAME_LABEL: name, OWNER_NAMESPACE_LABEL: namespace}


def stale_entries(
    stored: Iterable[InventoryEntry], desired: Iterable[ObjectId]
) -> tuple[InventoryEntry, ...]:
    """Stored entries whose identity is not desired any more (the version is not part of identity)."""
    keep = set(desired)
    return tuple(entry for entry in stored if entry.id not in keep)


def _sort_stub(entry: InventoryEntry) -> dict[str, Any]:
    oid = entry.id
    return {"apiVersion": entry.api_version, "kind": oid.kind,
            "metadata": {"namespace": oid.namespace, "name": oid.name}}


def prune_order(entries: Iterable[InventoryEntry]) -> list[InventoryEntry]:
    """Flux's delete order: the apply order reversed."""
    return sorted(entries, key=lambda e: apply_sort_key(_sort_stub(e)), reverse=True)


def _skip_reason(live: dict[str, Any], owner_labels: Mapping[str, str]) -> str:
    labels = (live.get("metadata") or {}).get("labels") or {}
    if any(labels.get(key) != value for key, value in owner_labels.items()):
        named = {key: labels.get(key) for key in owner_labels}
        if all(named.values()):
            return "owned by another node (" + ", ".join(f"{k}={v}" for k, v in named.items()) + ")"
        return "not labelled as this node's (" + ", ".join(f"{k}={v}" for k, v in owner_labels.items()) + ")"
    for key, value in ((PRUNE_KEY, "disabled"), (RECONCILE_KEY, "disabled"), (SSA_KEY, "Ignore")):
        if has_setting(live, key, value):
            return f"{key.rpartition('/')[2]}: {value}"
    return ""


def select_prune(
    stored: Iterable[InventoryEntry],
    desired: Iterable[ObjectId],
    live: Mapping[ObjectId, dict[str, Any] | None],
    owner_labels: Mapping[str, str],
) -> PruneSelection:
    """What pruning would do; `live` maps every stale id to its live object, None when NotFound."""
    stale = prune_order(stale_entries(stored, desired))
    unread = [str(entry.id) for entry in stale if entry.id not in live]
    if unread:
        raise ValueError(f"live state missing for stale objects: {', '.join(unread)}")
    delete: list[InventoryEntry] = []
    skipped: list[PruneSkip] = []
    gone: list[InventoryEntry] = []
    for entry in stale:
        obj = live[entry.id]
        if obj is None:
            gone.append(entry)
        elif reason := _skip_reason(obj, owner_labels):
            skipped.append(PruneSkip(entry.id, reason))
        else:
            delete.append(entry)
    return PruneSelection(tuple(delete), tuple(skipped), tuple(gone))


def check_prune_safety(
    node: str,
    selection: PruneSelection,
    inventory_size: int,
    *,
    allow: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
    min_objects: int = MIN_OBJECTS,
) -> PruneRefusedError | None:
    """The error to raise when the prune is too destructive and not allowed, else None.

    `inventory_size` is how many objects the node had (its stored inventory). Refused when more
    than `threshold` of them would be deleted (only if there were at least `min_objects`), or when
    a Namespace, CustomResourceDefinition or PersistentVolumeClaim would be.
    """
    objects = tuple(entry.id for entry in selection.delete)
    if allow or not objects:
        return None
    reasons = []
    if inventory_size >= min_objects and len(objects) > threshold * inventory_size:
        reasons.append(f"{len(objects)} of {inventory_size} objects is more than {threshold:.0%}")
    protected = [str(oid) for oid in objects if (oid.group, oid.kind) in PROTECTED_KINDS]
    if protected:
        reasons.append(f"it would delete {', '.join(protected)}")
    return PruneRefusedError(node, objects, tuple(reasons)) if reasons else None
