"""The Kustomization reconciler (`KustomizationReconciler`): reconcile one Kustomization against the
cluster, as kustomize-controller does.

Objects go in Flux's stages: cluster definitions (CRDs, Namespaces, ClusterRoles), then `*Class`
kinds, then everything else. Every object of a stage is dry-run before any of them is written, so
a stage the server refuses leaves nothing of it applied; after a stage of definitions fluxpush
waits for them (CRDs Established, Namespaces Active) and refreshes discovery. Then, only when all
stages succeeded: prune (with the safety guard), health checks, and the inventory is stored.
A failure says which stages were already applied, so nothing is half-changed silently.
The nodes a Kustomization rendered and Git no longer declares are garbage-collected, each by its
kind's reconciler (the run's `Reconcilers`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from fluxpush.engine.gc import RemovalLog, delete_objects, execute_removal
from fluxpush.engine.health import Status, compute_status
from fluxpush.engine.wait import wait_for_health
from fluxpush.errors import ClusterError, FluxpushError, Invalid
from fluxpush.flux.duration import parse_duration
from fluxpush.flux.model import Kustomization
from fluxpush.kube import KubeClient
from fluxpush.nodes import KustomizationNode
from fluxpush.planning import inventory as inv
from fluxpush.planning.apply_order import apply_stage, sort_for_apply
from fluxpush.planning.inventory import InventoryRecord, entries_from_objects
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.normalize import FORCE_KEY, ObjectId, has_setting, object_id
from fluxpush.planning.options import OBJECT_CONCURRENCY, EngineOptions
from fluxpush.planning.plan import Action, NodePlan, ObjectChange
from fluxpush.planning.planner import (
    PlannedObject,
    plan_objects,
    plan_prune,
    prune_changes,
    withheld,
)
from fluxpush.planning.prune import ALLOW_ANNOTATION, PruneRefusedError, check_prune_safety
from fluxpush.planning.removal import (
    Declared,
    PrunePlan,
    Removal,
    deletion_policy,
    node_entries,
    removal_changes,
)
from fluxpush.planning.result import Announce, NodeResult, Outcome
from fluxpush.planning.store import store_inventory
from fluxpush.reconciler import NodeRun, Reconcilers, Repository

STAGE_NAMES = {1: "cluster definitions", 2: "classes", 3: "objects"}
RECREATE_WAIT_SECONDS = 60.0  # how long a forced recreate waits for the old object to go


class _NodeFailure(Exception):
    """Stops a node's reconciliation with Flux's reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class _Progress:
    """What a reconciliation has done so far, for the result and the failure message."""

    changes: list[ObjectChange] = field(default_factory=list)
    applied: list[ObjectChange] = field(default_factory=list)
    stages_done: list[str] = field(default_factory=list)
    removals: RemovalLog = field(default_factory=RemovalLog)
    announce: Announce | None = None  # hears planned changes before they are written
    _positions: dict[ObjectId, int] = field(default_factory=dict)  # where each object's change is

    def plan_all(self, changes: list[ObjectChange]) -> list[ObjectChange]:
        """Record planned changes and announce them, before any of them is written."""
        for change in changes:
            self.plan(change)
        if self.announce is not None and changes:
            self.announce(changes)
        return changes

    def plan(self, change: ObjectChange) -> None:
        """Record an object's planned change."""
        self._positions[change.id] = len(self.changes)
        self.changes.append(change)

    def made(self, change: ObjectChange) -> None:
        """Record a write: `change` is what was done, in place of what was planned for its object."""
        self.applied.append(change)
        self.changes[self._positions[change.id]] = change

    def written(self) -> set[ObjectId]:
        """The objects created or updated so far."""
        return {change.id for change in self.applied if change.action is not Action.DELETE}

    def skipped(self) -> set[ObjectId]:
        """The objects left alone on purpose (reconcile disabled and the like)."""
        return {change.id for change in self.changes if change.action is Action.SKIP}

    def already(self) -> str:
        if not self.applied:
            return "nothing was changed in the cluster"
        stages = ", ".join(self.stages_done) or "part of a stage"
        return f"already applied: {stages} ({len(self.applied)} writes)"


# A refused object's error, told with the file (and line) of the repository it came from when known.
Placed = Callable[[dict[str, Any], ClusterError], str]


def placed_in(repository: Repository, node: KustomizationNode) -> Placed:
    """How the node's refused objects are told: the server's answer, then `at FILE:LINE (field)` for the
    first field the server names (or the object's first line), found in the repository."""
    def place(obj: dict[str, Any], error: ClusterError) -> str:
        field = next((cause.field for cause in error.causes if cause.field), "")
        where = repository.locate(obj, field, node.spec.path)
        return f"{error}\n  at {where}{f' ({field})' if field else ''}" if where else str(error)
    return place


def _allows_force(spec: Kustomization, obj: dict[str, Any], options: EngineOptions) -> bool:
    return options.force or spec.force or has_setting(obj, FORCE_KEY, "enabled")


def _is_immutable_error(exc: ClusterError) -> bool:
    return isinstance(exc, Invalid) and exc.immutable


RECREATED = "recreated: immutable field changed"


def _recreates(item: PlannedObject, spec: Kustomization, options: EngineOptions) -> bool:
    """The one rule plan and apply share: an object the server refuses only for an immutable field
    is recreated (deleted, then applied) when force allows it, as kustomize-controller's force does."""
    return item.error is not None and _is_immutable_error(item.error) and \
        _allows_force(spec, item.desired, options)


def _as_planned(item: PlannedObject, spec: Kustomization, options: EngineOptions) -> PlannedObject:
    """`item` as the plan shows it: a recreate force allows is an update that says so, not an error."""
    if not _recreates(item, spec, options):
        return item
    reason = "would be recreated (deleted, then applied): immutable field changed; force allows it"
    return replace(item, change=replace(item.change, action=Action.UPDATE, reason=reason), error=None)


def _recreate(client: KubeClient, obj: dict[str, Any], options: EngineOptions) -> dict[str, Any]:
    """Delete `obj`, wait until it is gone, apply it again (Flux's force for immutable fields)."""
    meta = obj.get("metadata") or {}
    client.delete(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
    deadline = time.monotonic() + RECREATE_WAIT_SECONDS
    while client.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace")) is not None:
        if time.monotonic() > deadline:
            raise _NodeFailure(
                inv.RECONCILIATION_FAILED,
                f"{object_id(obj)} was not deleted within {RECREATE_WAIT_SECONDS:.0f}s for its recreate",
            )
        time.sleep(0.2)
    return client.apply(obj, options.field_manager, force=True)


def _apply_stage(
    client: KubeClient,
    spec: Kustomization,
    planned: list[PlannedObject],
    options: EngineOptions,
    progress: _Progress,
    place: Placed,
) -> dict[ObjectId, dict[str, Any]]:
    """Write a stage whose dry runs all passed, `OBJECT_CONCURRENCY` objects at once; every failed
    write is reported together once the others have finished. Returns the server's answer to each
    write, by object."""
    refused = [p for p in planned if p.error is not None and not _recreates(p, spec, options)]
    if refused:
        details = "\n".join(place(p.desired, p.error) for p in refused if p.error is not None)
        raise _NodeFailure(
            inv.RECONCILIATION_FAILED,
            f"dry-run failed for {len(refused)} object(s); {progress.already()}\n{details}",
        )
    writes = [item for item in planned if item.error is not None or item.needs_apply]
    if not writes:
        return {}
    with ThreadPoolExecutor(max_workers=min(OBJECT_CONCURRENCY, len(writes))) as pool:
        outcomes = list(pool.map(lambda item: _write(client, item, options), writes))
    failures = [(item.desired, outcome) for item, outcome in zip(writes, outcomes, strict=True)
                if isinstance(outcome, ClusterError)]
    answers: dict[ObjectId, dict[str, Any]] = {}
    for item, outcome in zip(writes, outcomes, strict=True):
        if not isinstance(outcome, ClusterError):
            change, answers[item.change.id] = outcome
            progress.made(change)
    if failures:
        details = "\n".join(place(obj, exc) for obj, exc in failures)
        raise _NodeFailure(inv.RECONCILIATION_FAILED, f"{details}\n{progress.already()}") from failures[0][1]
    return answers


def _write(
    client: KubeClient, item: PlannedObject, options: EngineOptions
) -> tuple[ObjectChange, dict[str, Any]] | ClusterError:
    """Apply (or recreate) one planned object: the change made and the server's answer, or its refusal."""
    try:
        if item.error is None:
            return item.change, client.apply(item.desired, options.field_manager, force=True)
        answer = _recreate(client, item.desired, options)  # an immutable field, and force allows it
    except ClusterError as exc:
        return exc
    return replace(item.change, action=Action.UPDATE, reason=RECREATED), answer


def _wait_for_definitions(
    client: KubeClient,
    objects: list[dict[str, Any]],
    known: dict[ObjectId, dict[str, Any] | None],
    timeout: float,
) -> None:
    """Wait for the stage's CRDs and Namespaces, except those whose `known` state (the answer to
    their write, or the live copy the plan read) is already Current: a new Namespace is Active at once."""
    waited = [
        o
        for o in objects
        if o["kind"] in ("CustomResourceDefinition", "Namespace") and not _is_current(known.get(object_id(o)))
    ]
    if waited:
        verdict = wait_for_health(client, waited, timeout)
        if not verdict.healthy:
            raise _NodeFailure(inv.HEALTH_CHECK_FAILED, f"cluster definitions not ready: {verdict.message}")
    if any(o["kind"] == "CustomResourceDefinition" for o in objects):  # new types are served now
        client.api_resources.invalidate()


def _is_current(obj: dict[str, Any] | None) -> bool:
    return obj is not None and compute_status(obj).status is Status.CURRENT


def _prune(
    client: KubeClient,
    node: KustomizationNode,
    prune: PrunePlan,
    record: InventoryRecord | None,
    options: EngineOptions,
    live_index: LiveIndex,
    progress: _Progress,
    timeout: float,
    home: LiveIndex,
    reconcilers: Reconcilers,
) -> None:
    """Garbage-collect the removed child nodes (children first), then delete the stale objects; the
    safety guard sees everything at once, the node's own stale objects and its removed children's.
    When this run does not prune the node, its deletions are recorded as skips that say why."""
    why = _prune_withheld(node, options)
    if why:
        progress.plan_all(list(withheld(prune_changes(prune, live_index, home), why)))
        return
    refusal = _guard(node, prune, record, options)
    if refusal is not None:
        raise _NodeFailure(inv.PRUNE_FAILED, f"{refusal}; the objects stay in the inventory")
    for removal in prune.removals:
        progress.plan_all(list(removal_changes(removal, home)))
        try:
            execute_removal(home.client, removal, home, timeout, progress.removals, progress.made,
                            reconcilers)
        except FluxpushError as exc:
            raise _NodeFailure(inv.PRUNE_FAILED, f"garbage collection of {removal.node} (removed from Git) "
                                                 f"failed: {exc}\n{progress.already()}") from exc
    for change in progress.plan_all(list(prune_changes(PrunePlan(prune.objects), live_index))):
        if change.action is not Action.DELETE:
            continue
        oid = change.id
        api_version = next(e.api_version for e in prune.objects.delete if e.id == oid)
        try:
            client.delete(api_version, oid.kind, oid.name, oid.namespace or None)
        except ClusterError as exc:
            raise _NodeFailure(inv.PRUNE_FAILED, f"{exc}\n{progress.already()}") from exc
        progress.made(change)


def _guard(node: KustomizationNode, prune: PrunePlan, record: InventoryRecord | None,
           options: EngineOptions) -> PruneRefusedError | None:
    """The prune safety guard's refusal of everything the prune deletes, or None when it may go."""
    allowed = options.allow_destructive_prune or has_setting(node.spec.raw, ALLOW_ANNOTATION, "true")
    size = (len(record.entries) if record else 0) + prune.extra_size()
    return check_prune_safety(str(node.ref), prune.guarded(), size, allow=allowed)


def _prune_withheld(node: KustomizationNode, options: EngineOptions) -> str:
    """Why this run does not prune the node, or "" when it does."""
    if not options.prune:
        return "--no-prune (kept in the inventory for a later run)"
    return "" if node.spec.prune else "spec.prune is false"


def _health_targets(spec: Kustomization, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if spec.wait:
        return objects
    return [
        {
            "apiVersion": check.get("apiVersion", ""),
            "kind": check.get("kind", ""),
            "metadata": {"name": check.get("name", ""), "namespace": check.get("namespace", "")},
        }
        for check in spec.health_checks
    ]


def _stored_record(
    node: KustomizationNode,
    revision: str,
    record: InventoryRecord | None,
    objects: list[dict[str, Any]],
    ready: bool,
    reason: str,
    message: str,
    started: datetime,
    duration: float,
    keep_stale: bool,
) -> InventoryRecord:
    """The record to store: the objects and the child nodes it renders. After a failure (given only
    the objects it wrote), or when a run's `--no-prune` withheld the prune, it keeps every earlier entry
    too, so nothing is forgotten (objects a failed run created, stale objects a refused prune left) and
    a later run can prune them."""
    entries = tuple(sorted(entries_from_objects(objects) + node_entries(node.children)))
    if (not ready or keep_stale) and record is not None:
        known = {entry.id for entry in entries}
        entries = tuple(sorted(entries + tuple(e for e in record.entries if e.id not in known)))
    now = datetime.now(UTC)
    policy, why = deletion_policy(node.spec)
    return InventoryRecord(
        node=node.ref,
        entries=entries,
        last_applied_revision=revision if ready else (record.last_applied_revision if record else ""),
        last_attempted_revision=revision,
        conditions=(inv.ready_condition(ready, reason, message, now),),
        started_at=inv.format_time(started),
        finished_at=inv.format_time(now),
        duration_seconds=round(duration, 3),
        suspended=record.suspended if record else False,
        deletion_policy=policy,
        deletion_reason=why,
    )


def failed_status(record: InventoryRecord, revision: str, reason: str, message: str) -> InventoryRecord:
    """`record` with only its status changed to a failure of this run (Ready=False, `reason`, the
    message's first line, lastAttemptedRevision), as kustomize-controller records a failed attempt."""
    now = datetime.now(UTC)
    first = (message.splitlines() or [""])[0][:1000]
    return replace(record, last_attempted_revision=revision,
                   conditions=(inv.ready_condition(False, reason, first, now),))


class KustomizationReconciler:
    """The Kustomization kind's reconciler: plans and applies a node's objects (see the module
    docstring), deletes the objects of one removed from Git."""

    def plan(self, node: KustomizationNode, run: NodeRun) -> NodePlan:
        """See `plan_node`; with a target (spec.kubeConfig) its objects are read in that cluster,
        its removed children in the run's snapshot of the management cluster."""
        target = run.target
        live = LiveIndex(target.client) if target else run.snapshot
        return plan_node(node, run.revision, live, run.options, run.record, run.declared,
                         target.name if target else "", home=run.snapshot,
                         place=placed_in(run.repository, node))

    def apply(self, node: KustomizationNode, run: NodeRun) -> NodeResult:
        """See `apply_node`."""
        return apply_node(node, run)

    def remove(self, client: KubeClient, removal: Removal, timeout: float) -> str:
        """Delete the objects of a Kustomization removed from Git (see `gc.delete_objects`)."""
        return delete_objects(client, removal, timeout)


def plan_node(
    node: KustomizationNode,
    revision: str,
    live_index: LiveIndex,
    options: EngineOptions,
    record: InventoryRecord | None,
    declared: Declared,
    cluster: str = "",
    home: LiveIndex | None = None,
    place: Placed | None = None,
) -> NodePlan:
    """The node's plan without writing anything (objects of later stages see earlier ones as absent).
    The prune is planned even when this run will not prune: its deletions then show as skips that
    say why. A prune the safety guard would refuse makes the plan an error that says so."""
    objects = sort_for_apply(node.objects)
    planned = [_as_planned(p, node.spec, options)
               for p in plan_objects(objects, live_index, options.way, field_manager=options.field_manager)]
    errors = "\n".join(place(p.desired, p.error) if place else str(p.error)
                       for p in planned if p.error is not None)
    selection = plan_prune(node.ref, record, objects, node.children, live_index, declared, home)
    prune = prune_changes(selection, live_index, home)
    why = _prune_withheld(node, options)
    refusal = None if why else _guard(node, selection, record, options)
    if why:
        prune = withheld(prune, why)
    if refusal is not None:  # the preview says the apply will fail, and still lists what it would delete
        errors = "\n".join(filter(None, [errors, f"apply will fail: {refusal}"]))
    return NodePlan(node.ref, revision, tuple(p.change for p in planned), prune, errors,
                    cluster=cluster)


def _refuse_sealed(node: KustomizationNode) -> None:
    """A node holding SOPS values no key opened is never applied (masks and ciphertext stay out)."""
    if node.sealed:
        raise _NodeFailure(inv.BUILD_FAILED, "decryption failed: " + "; ".join(map(str, node.sealed))
                           + "\nnothing was applied (a SOPS value is never applied masked or "
                           "encrypted); give the key: --sops-age-key-file, $SOPS_AGE_KEY or "
                           "spec.decryption.secretRef")


def apply_node(node: KustomizationNode, run: NodeRun) -> NodeResult:
    """Apply, prune, wait and store the inventory of one Kustomization; never raises for its failures.

    With a target (spec.kubeConfig), objects go to that cluster; the inventory stays in `run.client`'s.
    `run.announce` hears each stage's changes before they are written.
    """
    started, clock = datetime.now(UTC), time.monotonic()
    spec, revision, client, options, record, target = (node.spec, run.revision, run.client, run.options,
                                                        run.record, run.target)
    progress = _Progress(announce=run.announce)
    timeout = options.timeout or parse_duration(spec.effective_timeout())
    objects = sort_for_apply(node.objects)
    inventory_client, client = client, target.client if target else client
    live_index = LiveIndex(client, reads=objects)
    # removed child nodes are collected where their records are: the management cluster
    home = LiveIndex(inventory_client) if target else live_index
    try:
        _refuse_sealed(node)
        for stage, group in groupby(objects, key=apply_stage):
            stage_objects = list(group)
            planned = plan_objects(
                stage_objects, live_index, options.way, field_manager=options.field_manager
            )
            progress.plan_all([_as_planned(item, spec, options).change for item in planned])
            answers = _apply_stage(client, spec, planned, options, progress, placed_in(run.repository, node))
            known = {p.change.id: answers.get(p.change.id) or live_index.get(p.desired)
                     for p in planned} if stage < 3 else {}
            for item in planned:
                live_index.forget(item.desired)
            if stage < 3:
                _wait_for_definitions(client, stage_objects, known, timeout)
            progress.stages_done.append(STAGE_NAMES[stage])
        prune = plan_prune(node.ref, record, objects, node.children, live_index, run.declared, home)
        _prune(client, node, prune, record, options, live_index, progress, timeout, home, run.reconcilers)
        skipped = progress.skipped()
        targets = _health_targets(spec, [o for o in objects if object_id(o) not in skipped])
        if targets:
            verdict = wait_for_health(client, targets, max(timeout - (time.monotonic() - clock), 1.0))
            if not verdict.healthy:
                raise _NodeFailure(inv.HEALTH_CHECK_FAILED, f"health check failed: {verdict.message}")
        outcome, reason = Outcome.READY, inv.RECONCILIATION_SUCCEEDED
        message = "\n".join([f"Applied revision: {revision}", *progress.removals.notes])
    except _NodeFailure as failure:
        outcome, reason, message = Outcome.FAILED, failure.reason, failure.message
    except FluxpushError as exc:
        outcome, reason, message = Outcome.FAILED, inv.RECONCILIATION_FAILED, f"{exc}\n{progress.already()}"
    duration = time.monotonic() - clock
    ready = outcome is Outcome.READY
    # A failed (or interrupted) node records what it wrote, beside what it held: never an object
    # the server refused or a write that did not start.
    written = objects if ready else [o for o in objects if object_id(o) in progress.written()]
    stored = _stored_record(node, revision, record, written, ready, reason, message.splitlines()[0],
                            started, duration, keep_stale=not options.prune)
    stored = replace(stored, cluster=target.name) if target else stored
    try:
        store_inventory(inventory_client, stored, options.field_manager)
    except FluxpushError as exc:
        outcome, reason = Outcome.FAILED, inv.RECONCILIATION_FAILED
        message = f"{message}\ninventory not stored: {exc}"
    plan = NodePlan(node.ref, revision, tuple(progress.changes), (), "" if ready else message,
                    cluster=target.name if target else "")
    return NodeResult(node.ref, outcome, reason, message, plan, tuple(progress.applied), duration)

