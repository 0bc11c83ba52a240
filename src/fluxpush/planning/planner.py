"""Plan one node's objects against the live cluster, the two ways.

- **server**: a server-side-apply dry run per object (`dryRun=All`, `force=true`, Flux's field
  manager) gives the exact merged object, defaults and validation included; needs write permission.
- **client**: the live objects (listed in bulk) are compared locally with what we apply and the
  fields our manager owns; needs only read permission. An object the comparison cannot decide is
  dry-run after all, so the answer stays exact where it matters.
- **read-only**: the client way without any dry run, for credentials that may only read (PR
  previews); an object it cannot decide is planned as an update and says why.

An object whose namespace or type does not exist yet (it is created earlier in the same run) is
planned as a create without a dry run, and says so.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from fluxpush.errors import ClusterError, NotFound
from fluxpush.flux.model import ObjectRef
from fluxpush.planning.clientside import Verdict, client_side_changed
from fluxpush.planning.inventory import InventoryRecord, decode_inventory, inventory_name
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.normalize import object_id
from fluxpush.planning.options import OBJECT_CONCURRENCY, PlanWay
from fluxpush.planning.plan import FIELD_MANAGER, Action, ObjectChange, classify, delete_change, skip_reason
from fluxpush.planning.removal import (
    Declared,
    PrunePlan,
    node_object_id,
    plan_removals,
    removal_changes,
    select_objects,
)
from fluxpush.sops.sealed import is_sealed, value_keys

SEALED_REASON = "SOPS-encrypted, not decrypted: compared by key set"


@dataclass(frozen=True, slots=True)
class PlannedObject:
    """A desired object and what applying it would do; `error` when the server refused the dry run."""

    desired: dict[str, Any]
    change: ObjectChange
    error: ClusterError | None = None

    @property
    def needs_apply(self) -> bool:
        """Whether applying would create or change it."""
        return self.error is None and self.change.action in (Action.CREATE, Action.UPDATE)


def is_missing_namespace(exc: ClusterError) -> bool:
    """Whether the server refused a namespaced write because its namespace does not exist."""
    return isinstance(exc, NotFound) and exc.missing == "namespaces"


def plan_object(
    desired: dict[str, Any], live_index: LiveIndex, way: PlanWay, *, field_manager: str = FIELD_MANAGER
) -> PlannedObject:
    """Classify one object; dry-runs on the server way, and on the client way when undecided."""
    oid = object_id(desired)
    if not live_index.is_served(desired["apiVersion"], desired["kind"]):
        reason = f"{desired['apiVersion']} {desired['kind']} is not served yet (its CRD is applied first)"
        return PlannedObject(desired, ObjectChange(oid, Action.CREATE, reason, *_create_diff(desired)))
    live = live_index.get(desired)
    if is_sealed(desired):
        return PlannedObject(desired, sealed_change(desired, live))
    if skip_reason(desired, live):
        return PlannedObject(desired, classify(desired, live, None, field_manager=field_manager))
    if way is PlanWay.READ_ONLY:
        return PlannedObject(desired, classify(desired, live, None, field_manager=field_manager))
    if (
        way is PlanWay.CLIENT
        and live is not None
        and client_side_changed(desired, live, field_manager).verdict is not Verdict.UNDECIDED
    ):
        return PlannedObject(desired, classify(desired, live, None, field_manager=field_manager))
    try:
        merged = live_index.client.apply(desired, field_manager, force=True, dry_run=True)
    except ClusterError as exc:
        if live is None and is_missing_namespace(exc):
            namespace = (desired.get("metadata") or {}).get("namespace")
            reason = f"namespace {namespace} does not exist yet (it is created first)"
            return PlannedObject(desired, ObjectChange(oid, Action.CREATE, reason, *_create_diff(desired)))
        return PlannedObject(desired, ObjectChange(oid, Action.SKIP, "refused by the server"), exc)
    return PlannedObject(desired, classify(desired, live, merged, field_manager=field_manager))


def sealed_change(desired: dict[str, Any], live: dict[str, Any] | None) -> ObjectChange:
    """A Secret whose values stayed SOPS-encrypted, planned as `flux diff` does: by key set only."""
    oid = object_id(desired)
    if live is None:
        return ObjectChange(oid, Action.CREATE, SEALED_REASON, *_create_diff(desired))
    wanted, present = value_keys(desired), value_keys(live)
    if wanted == present:
        return ObjectChange(oid, Action.UNCHANGED, SEALED_REASON)
    lines = [f"-data.{k}: ***\n" for k in sorted(present - wanted)]
    lines += [f"+data.{k}: ***\n" for k in sorted(wanted - present)]
    paths = tuple(f"data.{k}" for k in sorted(wanted ^ present))
    diff = f"--- live {oid}\n+++ desired {oid}\n" + "".join(lines)
    return ObjectChange(oid, Action.UPDATE, SEALED_REASON, diff, paths)


def _create_diff(desired: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    change = classify(desired, None, None)
    return change.diff, change.changed_paths


def plan_objects(
    objects: list[dict[str, Any]], live_index: LiveIndex, way: PlanWay, *, field_manager: str = FIELD_MANAGER
) -> list[PlannedObject]:
    """Plan every object, up to `OBJECT_CONCURRENCY` at once; results in the given order."""
    def plan(obj: dict[str, Any]) -> PlannedObject:
        return plan_object(obj, live_index, way, field_manager=field_manager)

    if len(objects) <= 1:
        return [plan(obj) for obj in objects]
    with ThreadPoolExecutor(max_workers=min(OBJECT_CONCURRENCY, len(objects))) as pool:
        return list(pool.map(plan, objects))


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
