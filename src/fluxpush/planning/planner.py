"""Plan one node's objects against the live cluster: read, then classify.

`plan_objects` composes the read stage (`reads.read_for_plan`: the live copies, the served types and
the dry runs the plan way needs, into a `PlanReads` value) with the pure classification
(`classifier.classify_objects`); the ways themselves are described there (decision 0005, 0011).
Prune planning (`plan_prune`, `prune_changes`) reads stored records and live objects as it walks them.
"""

from __future__ import annotations

from typing import Any

from fluxpush.flux.model import ObjectRef
from fluxpush.planning.classifier import PlannedObject, classify_objects
from fluxpush.planning.inventory import InventoryRecord, decode_inventory, inventory_name
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.normalize import object_id
from fluxpush.planning.options import PlanWay
from fluxpush.planning.plan import FIELD_MANAGER, Action, ObjectChange, delete_change
from fluxpush.planning.reads import read_for_plan
from fluxpush.planning.removal import (
    Declared,
    PrunePlan,
    node_object_id,
    plan_removals,
    removal_changes,
    select_objects,
)

__all__ = ["PlannedObject", "plan_objects", "plan_prune", "prune_changes",
           "read_inventory", "withheld"]


def plan_objects(
    objects: list[dict[str, Any]], live_index: LiveIndex, way: PlanWay, *, field_manager: str = FIELD_MANAGER
) -> list[PlannedObject]:
    """Plan every object, results in the given order: the read stage (`read_for_plan`: live copies and
    the dry runs the way needs, concurrently), then the pure classification (`classify_objects`)."""
    reads = read_for_plan(objects, live_index, way, field_manager=field_manager)
    return classify_objects(objects, reads, way, field_manager=field_manager)


def read_inventory(live_index: LiveIndex, node: ObjectRef) -> InventoryRecord | None:
    """The node's stored inventory, or None before its first apply."""
    stub = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": inventory_name(node), "namespace": node.namespace},
    }
    obj = live_index.get(stub)
    return decode_inventory(obj) if obj is not None else None


def plan_prune(
    node: ObjectRef,
    record: InventoryRecord | None,
    desired: list[dict[str, Any]],
    children: list[ObjectRef],
    live_index: LiveIndex,
    declared: Declared,
    home: LiveIndex | None = None,
) -> PrunePlan:
    """Which stored objects and child nodes the node no longer renders, and what deleting them does.

    The removed child nodes' records (and, unless they name another cluster, their objects) are read
    in `home`, the management cluster, when the node's own objects live elsewhere (spec.kubeConfig).
    """
    if record is None:
        return PrunePlan()
    desired_ids = {object_id(obj) for obj in desired} | {node_object_id(ref) for ref in children}
    objects = select_objects(node, record.entries, desired_ids, live_index, declared)
    stale_nodes = [entry for entry in record.entries if entry.id not in desired_ids]
    return PrunePlan(objects, plan_removals(stale_nodes, home or live_index, declared))


def prune_changes(prune: PrunePlan, live_index: LiveIndex,
                  home: LiveIndex | None = None) -> tuple[ObjectChange, ...]:
    """The prune as plan entries: deletions with the live object's diff, then the kept ones, then the
    removed child nodes (each with what its garbage collection deletes, read in `home`)."""
    selection = prune.objects
    changes: list[ObjectChange] = []
    for entry in selection.delete:
        oid = entry.id
        stub = {
            "apiVersion": entry.api_version,
            "kind": oid.kind,
            "metadata": {"name": oid.name, "namespace": oid.namespace},
        }
        live = live_index.get(stub)
        changes.append(delete_change(live) if live is not None else ObjectChange(oid, Action.DELETE))
    changes += [
        ObjectChange(skip.id, Action.SKIP, f"not pruned: {skip.reason}") for skip in selection.skipped
    ]
    for removal in prune.removals:
        changes += removal_changes(removal, home or live_index)
    return tuple(changes)


def withheld(changes: tuple[ObjectChange, ...], why: str) -> tuple[ObjectChange, ...]:
    """The prune's deletions as skips saying what would have been deleted and why it is not."""
    return tuple(
        ObjectChange(c.id, Action.SKIP, f"would be pruned{f' ({c.reason})' if c.reason else ''}; "
                                        f"not pruned: {why}")
        if c.action is Action.DELETE else c
        for c in changes
    )
