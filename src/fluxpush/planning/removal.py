"""What a node's prune deletes: its stale objects, and the nodes removed from Git that it rendered.

A parent's inventory holds its objects and its child nodes (entries `<ns>_<name>_kustomize.toolkit.
fluxcd.io_Kustomization`, `…_helm.toolkit.fluxcd.io_HelmRelease`), as Flux's does. When a parent that
built, validated and applied successfully in this run no longer renders a child, its prune deletes
the child the way the child's finalizer would in Flux:

- a Kustomization (kustomize-controller's `finalize`): its inventory objects are deleted when it is
  not suspended and its `deletionPolicy` says so (`MirrorPrune` follows `spec.prune`, `Delete` and
  `WaitForTermination` delete, `Orphan` keeps), only objects still labelled as its own and not
  marked `prune: disabled`, `reconcile: disabled` or `ssa: Ignore`; its own children first; with
  `WaitForTermination` fluxpush waits for them to be gone (a timeout is reported, not fatal, as in
  Flux); then its inventory record is deleted (the Kustomization object is gone in Flux too);
- a HelmRelease (helm-controller's `reconcileDelete`): its release is uninstalled unless it is
  suspended; then its record is deleted;
- a child whose object carried `kustomize.toolkit.fluxcd.io/prune: disabled` (or `reconcile:
  disabled`, `ssa: Ignore`) is not deleted at all: it and its record stay.

What a node last declared about its deletion is kept in its own record (`deletion_policy`), because
the spec is gone from Git by the time it matters; a record without it (written before this rule)
is never garbage-collected. Nothing that any node of this run still renders is ever deleted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fluxpush.flux.kinds import HELM_GROUP, KUSTOMIZE_GROUP
from fluxpush.flux.model import HelmRelease, Kustomization, ObjectRef
from fluxpush.planning.inventory import (
    InventoryEntry,
    InventoryRecord,
    decode_inventory,
    inventory_name,
)
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.normalize import PRUNE_KEY, RECONCILE_KEY, SSA_KEY, ObjectId, has_setting
from fluxpush.planning.plan import Action, ObjectChange, delete_change
from fluxpush.planning.prune import PruneSelection, PruneSkip, kustomization_owner_labels, select_prune

NODE_GROUPS = {"Kustomization": KUSTOMIZE_GROUP, "HelmRelease": HELM_GROUP}
NODE_VERSIONS = {"Kustomization": "v1", "HelmRelease": "v2"}
DELETE, WAIT, ORPHAN, KEEP, GONE = "Delete", "WaitForTermination", "Orphan", "Keep", "Gone"
# How a removal that deletes no object is described in the plan.
KEPT_WORDS = {ORPHAN: "objects orphaned", KEEP: "kept", GONE: "nothing to collect"}

# Identities Git still declares in this run (every rendered object and node), with who declares each.
Declared = Mapping[ObjectId, ObjectRef]


def node_object_id(ref: ObjectRef) -> ObjectId:
    """The inventory identity of a Kustomization or HelmRelease node."""
    return ObjectId(NODE_GROUPS[ref.kind], ref.kind, ref.namespace, ref.name)


def is_node_entry(oid: ObjectId) -> bool:
    """Whether an inventory identity is a child node rather than an object."""
    return NODE_GROUPS.get(oid.kind) == oid.group


def node_entries(children: list[ObjectRef]) -> tuple[InventoryEntry, ...]:
    """A parent's inventory entries for the child nodes it renders."""
    return tuple(InventoryEntry(node_object_id(ref), NODE_VERSIONS[ref.kind]) for ref in children)


def deletion_policy(spec: Kustomization | HelmRelease) -> tuple[str, str]:
    """What removing this node from Git will do, and why: read from its spec at every store."""
    for key, value in ((PRUNE_KEY, "disabled"), (RECONCILE_KEY, "disabled"), (SSA_KEY, "Ignore")):
        if has_setting(spec.raw, key, value):
            return KEEP, f"{key}: {value} on the {spec.ref.kind}: its parent does not prune it"
    if spec.suspend:
        return ORPHAN, "suspended (spec.suspend): its finalizer deletes nothing"
    if isinstance(spec, HelmRelease):
        return DELETE, "helm-controller uninstalls a deleted HelmRelease"
    policy = (spec.raw.get("spec") or {}).get("deletionPolicy") or "MirrorPrune"
    if policy == "MirrorPrune":
        if spec.prune:
            return DELETE, "deletionPolicy MirrorPrune with spec.prune: true"
        return ORPHAN, "deletionPolicy MirrorPrune with spec.prune: false"
    if policy in (DELETE, WAIT):
        return policy, f"deletionPolicy {policy}"
    return ORPHAN, f"deletionPolicy {policy}"


@dataclass(frozen=True, slots=True)
class Removal:
    """A node removed from Git: what its garbage collection deletes (its children's first)."""

    node: ObjectRef
    policy: str  # Delete | WaitForTermination | Orphan | Keep | Gone (it has no record)
    reason: str
    record_name: str | None  # its inventory record, None when it has none (nothing to collect)
    objects: PruneSelection = field(default_factory=PruneSelection)
    children: tuple[Removal, ...] = ()
    release: tuple[str, str] | None = None  # (namespace, name) of the helm release to uninstall
    size: int = 0  # objects in its inventory

    @property
    def deletes_objects(self) -> bool:
        """Whether its objects (or release) are deleted, not only its record."""
        return self.policy in (DELETE, WAIT)

    def walk(self) -> Iterator[Removal]:
        """This removal and every removal under it, children first."""
        for child in self.children:
            yield from child.walk()
        yield self


@dataclass(frozen=True, slots=True)
class PrunePlan:
    """A node's prune: its own stale objects and the nodes removed from Git it rendered."""

    objects: PruneSelection = field(default_factory=PruneSelection)
    removals: tuple[Removal, ...] = ()

    def guarded(self) -> PruneSelection:
        """Every object the prune deletes (its own and its removed children's), for the safety guard."""
        deletes = list(self.objects.delete)
        for removal in self.removals:
            deletes += [e for r in removal.walk() if r.deletes_objects for e in r.objects.delete]
        return PruneSelection(tuple(deletes))

    def extra_size(self) -> int:
        """Objects held by the removed nodes' inventories (added to the node's own for the guard)."""
        return sum(r.size for removal in self.removals for r in removal.walk() if r.deletes_objects)


def entry_stub(entry: InventoryEntry) -> dict[str, Any]:
    oid = entry.id
    return {"apiVersion": entry.api_version, "kind": oid.kind,
            "metadata": {"name": oid.name, "namespace": oid.namespace}}


def _declared_skips(selection: PruneSelection, owner: ObjectRef, declared: Declared) -> PruneSelection:
    """Move deletions of objects another node of this run renders to the skipped ones."""
    kept = [e for e in selection.delete if e.id in declared and declared[e.id] != owner]
    skips = tuple(PruneSkip(e.id, f"still declared in Git by {declared[e.id]}") for e in kept)
    delete = tuple(e for e in selection.delete if e not in kept)
    return PruneSelection(delete, selection.skipped + skips, selection.gone)


def select_objects(owner: ObjectRef, entries: tuple[InventoryEntry, ...], desired: set[ObjectId],
                   live_index: LiveIndex, declared: Declared, *, owner_labels: bool = True) -> PruneSelection:
    """The stale objects of `entries` (not `desired`, not nodes): to delete, to leave (why), gone."""
    stale = [e for e in entries if e.id not in desired and not is_node_entry(e.id)]
    live = {entry.id: live_index.get(entry_stub(entry)) for entry in stale}
    labels = kustomization_owner_labels(owner.name, owner.namespace) if owner_labels else {}
    selection = select_prune(stale, desired, live, labels)
    return _declared_skips(selection, owner, declared)


def _read_record(live_index: LiveIndex, ref: ObjectRef) -> tuple[InventoryRecord, dict[str, Any]] | None:
    stub = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": inventory_name(ref), "namespace": ref.namespace}}
    obj = live_index.get(stub)
    return (decode_inventory(obj), obj) if obj is not None else None


def plan_removal(ref: ObjectRef, live_index: LiveIndex, declared: Declared) -> Removal:
    """What garbage-collecting the removed node `ref` deletes (read from its stored record)."""
    found = _read_record(live_index, ref)
    if found is None:
        return Removal(ref, GONE, "it has no inventory record", None)
    record, obj = found
    policy, reason = record.deletion_policy, record.deletion_reason
    if record.suspended:
        policy, reason = ORPHAN, "suspended (fluxpush suspend): its finalizer deletes nothing"
    if not policy:
        policy, reason = KEEP, "its inventory predates deletion policies: delete it by hand"
    if record.cluster and policy in (DELETE, WAIT):
        policy, reason = KEEP, (f"its objects are in another cluster ({record.cluster}), which fluxpush "
                                "no longer reaches once spec.kubeConfig left Git: delete them there by hand")
    name = str(obj["metadata"]["name"])
    if policy == KEEP:
        return Removal(ref, policy, reason, None, size=0)
    children = tuple(plan_removal(e.id.ref, live_index, declared)
                     for e in record.entries if is_node_entry(e.id) and e.id not in declared) \
        if policy in (DELETE, WAIT) else ()
    objects = select_objects(ref, record.entries, set(), live_index, declared,
                             owner_labels=ref.kind == "Kustomization")
    release = None
    if ref.kind == "HelmRelease":
        namespace, _, release_name = record.release.partition("/")
        release = (namespace, release_name) if release_name else (ref.namespace, ref.name)
    size = sum(1 for e in record.entries if not is_node_entry(e.id))
    return Removal(ref, policy, reason, name, objects, children, release, size)


def plan_removals(
    stale: list[InventoryEntry], live_index: LiveIndex, declared: Declared
) -> tuple[Removal, ...]:
    """The removals of a parent's stale node entries; a node another parent now renders is not removed."""
    refs = [e.id.ref for e in stale
            if is_node_entry(e.id) and e.id not in declared]
    return tuple(plan_removal(ref, live_index, declared) for ref in refs)


def removal_changes(removal: Removal, live_index: LiveIndex) -> list[ObjectChange]:
    """The plan entries of one removal, in the order they happen: children, objects, the node."""
    return [change for r in removal.walk() for change in own_changes(r, live_index)]


def own_changes(removal: Removal, live_index: LiveIndex) -> list[ObjectChange]:
    """The plan entries of one removal without its children's: its objects, then the node itself."""
    changes: list[ObjectChange] = []
    oid = node_object_id(removal.node)
    if not removal.deletes_objects:
        word = KEPT_WORDS[removal.policy]
        changes += [ObjectChange(e.id, Action.SKIP, f"not deleted: {removal.node} {word} ({removal.reason})")
                    for e in removal.objects.delete]
        action = Action.DELETE if removal.policy == ORPHAN else Action.SKIP  # only its record goes
        changes.append(ObjectChange(oid, action, f"removed from Git: {word} ({removal.reason})"))
        return changes
    verb = "uninstalled with its release" if removal.release else "garbage-collected"
    for entry in removal.objects.delete:
        live = live_index.get(entry_stub(entry))
        change = delete_change(live) if live is not None else ObjectChange(entry.id, Action.DELETE)
        changes.append(ObjectChange(change.id, Action.DELETE, f"{removal.node} removed from Git: {verb}",
                                    change.diff, change.changed_paths))
    changes += [ObjectChange(s.id, Action.SKIP, f"not pruned: {s.reason}") for s in removal.objects.skipped]
    what = f"uninstall release {removal.release[0]}/{removal.release[1]}" if removal.release else \
        f"delete its {len(removal.objects.delete)} object(s)"
    changes.append(ObjectChange(oid, Action.DELETE, f"removed from Git: {what} ({removal.reason})"))
    return changes


def orphaned_records(records: list[dict[str, Any]], rendered: set[ObjectRef]) -> list[ObjectRef]:
    """The nodes whose record is in the cluster although Git no longer renders them and no other
    record holds them, so no prune will ever collect them: a parent with `prune: false` dropped them
    (as Flux orphans the object), or their record predates the parents' child entries."""
    decoded = []
    for obj in records:
        with contextlib.suppress(ValueError):  # not a record fluxpush can read: not one it wrote
            decoded.append(decode_inventory(obj))
    held = {entry.id for record in decoded for entry in record.entries if is_node_entry(entry.id)}
    return sorted(record.node for record in decoded
                  if record.node not in rendered and node_object_id(record.node) not in held)
