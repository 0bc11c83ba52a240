"""Run a plan or an apply over every node of a discovery, in dependency order.

A node starts as soon as the nodes it `dependsOn` are Ready (and, the first time, the parent that
renders it has applied it, as in Flux where a child exists only once its parent applied it).
Independent nodes run concurrently, bounded by `EngineOptions.concurrency`. A node whose dependency
is not ready is reported `DependencyNotReady` and not touched; its independents go on. Readiness is
decided by `dependency_blocker`, as kustomize-controller's and helm-controller's checkDependencies.

An interrupted run (the client's `StopSwitch` thrown by SIGTERM/SIGINT) starts no new node: the
nodes still waiting end `Interrupted`, the running ones finish with their remaining writes refused
and their inventories stored. A `RunObserver` hears each node start, its changes before they are
written, and its result, so a face can stream the run as it happens.

Each node is planned or applied by its kind's reconciler, from the `Reconcilers` registry the face
hands to `run_nodes` (`fluxpush.app.reconcilers.default_reconcilers()`): the run knows no kind itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from enum import StrEnum

from fluxpush.engine.reconcile import failed_status
from fluxpush.engine.remote import RemoteClusters
from fluxpush.errors import ClusterError, FluxpushError
from fluxpush.flux.model import ObjectRef
from fluxpush.kube import KubeClient
from fluxpush.nodes import AnyNode, is_kustomization
from fluxpush.planning.inventory import INVENTORY_SELECTOR, InventoryRecord, inventory_name
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.normalize import ObjectId, object_id
from fluxpush.planning.options import EngineOptions
from fluxpush.planning.plan import Action, NodePlan, ObjectChange, Plan
from fluxpush.planning.planner import read_inventory
from fluxpush.planning.removal import (
    Declared,
    deletion_policy,
    is_node_entry,
    node_object_id,
    orphaned_records,
)
from fluxpush.planning.result import Announce, NodeResult, Outcome
from fluxpush.planning.store import store_inventory
from fluxpush.reconciler import NodeRun, Reconcilers
from fluxpush.repository.discover import Discovery


class RunObserver:
    """What a face hears while a run goes on (from the run's worker threads); hears nothing by default."""

    def started(self, ref: ObjectRef, applying: bool) -> None:
        """A node starts planning or applying."""

    def planned(self, ref: ObjectRef, changes: Sequence[ObjectChange]) -> None:
        """A node's changes, before they are written (once per apply stage)."""

    def finished(self, result: NodeResult) -> None:
        """A node's result, as soon as it is decided."""


class Verdict(StrEnum):
    """A run's result, decided in one place (`RunResult.verdict`) for every verb and the action."""

    IN_SYNC = "in sync"
    CHANGES = "changes"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RunResult:
    """Every node's result in the order they finished being decided, and the run's request count."""

    revision: str
    results: tuple[NodeResult, ...]
    requests: int
    duration: float
    interrupted: str = ""  # the signal's name when the run was interrupted

    @property
    def plan(self) -> Plan:
        """The plans (or applied changes) of every node."""
        return Plan(tuple(result.plan for result in self.results))

    @property
    def ok(self) -> bool:
        """Whether no node failed or was blocked, and the run was not interrupted."""
        return not self.interrupted and all(result.ok for result in self.results)

    @property
    def changed(self) -> bool:
        """Whether anything was (or would be) written."""
        return any(result.applied for result in self.results) or self.plan.has_changes

    @property
    def verdict(self) -> Verdict:
        """FAILED when any node failed or was blocked (every problem of the repository fails the node
        it affects: a build or validation error, an ownership conflict, an unresolvable source or
        dependency), else CHANGES when anything was or would be written, else IN_SYNC."""
        if not self.ok:
            return Verdict.FAILED
        return Verdict.CHANGES if self.changed else Verdict.IN_SYNC


def declared_in_git(discovery: Discovery) -> Declared:
    """Every object and node the repository declares in this run, with the node that declares it."""
    declared: dict[ObjectId, ObjectRef] = {}
    for node in discovery.nodes.values():
        declared[node_object_id(node.ref)] = node.parent or node.ref
        for obj in node.objects:
            declared.setdefault(object_id(obj), node.ref)
    return declared


def _same_source(node: AnyNode, dep: AnyNode | None) -> bool:
    if dep is None or not is_kustomization(node) or not is_kustomization(dep):
        return False
    ours, theirs = node.spec.source_ref, dep.spec.source_ref
    return (ours.kind, ours.namespace, ours.name) == (theirs.kind, theirs.namespace, theirs.name)


def dependency_blocker(dep: ObjectRef, result: NodeResult | None, record: InventoryRecord | None,
                       revision: str, same_source: bool) -> str | None:
    """Why dependency `dep` is not ready, or None; `result` is its outcome in this run (None when the
    run does not include it). As kustomize-controller's checkDependencies: ready means the Ready
    condition is True for the current spec (a node decided in this run), and for a Kustomization from
    the same source, its last applied revision is this revision. A suspended dependency, or one
    outside the run, is judged by its stored status as Flux reads the live object's; a failed or
    blocked one, or one never applied, is not ready."""
    name = f"dependency '{dep.namespace}/{dep.name}'"
    if result is not None and result.outcome is Outcome.READY:
        return None
    if result is not None and result.outcome is not Outcome.SUSPENDED:
        return f"{name} is not ready ({result.outcome})"
    ready = record.condition("Ready") if record else None
    if record is None or ready is None:
        return f"{name} is not ready (never applied)"
    if ready.status != "True":
        return f"{name} is not ready (last {ready.reason}: {ready.message})"
    if dep.kind == "Kustomization" and same_source and record.last_applied_revision != revision:
        return (f"{name} revision is not up to date (last applied {record.last_applied_revision or 'none'}); "
                "reconcile it too (--with-dependencies)")
    return None


def _not_run(
    node: AnyNode, revision: str, outcome: Outcome, reason: str, message: str,
    blocked_by: tuple[str, ...] = (),
) -> NodeResult:
    changes = (
        () if outcome is Outcome.BLOCKED else (ObjectChange(node_object_id(node.ref), Action.SKIP, message),)
    )
    error = message if outcome is Outcome.FAILED else ""
    plan = NodePlan(node.ref, revision, changes, (), error, blocked_by)
    return NodeResult(node.ref, outcome, reason, message, plan)


class _Runner:
    """One run's state: which nodes are done, and how each one is reconciled."""

    def __init__(
        self,
        discovery: Discovery,
        client: KubeClient,
        options: EngineOptions,
        apply: bool,
        selected: set[ObjectRef],
        observer: RunObserver,
        reconcilers: Reconcilers,
    ) -> None:
        self.discovery = discovery
        self.reconcilers = reconcilers
        self.client = client
        self.options = options
        self.apply = apply
        self.selected = selected
        self.observer = observer
        self.records: dict[ObjectRef, InventoryRecord | None] = {}
        self.waits: dict[ObjectRef, tuple[ObjectRef, ...]] = {}
        self.results: dict[ObjectRef, NodeResult] = {}
        # previewed nodes a dependency outside the run keeps from applying: why, shown with their plan
        self.would_wait: dict[ObjectRef, str] = {}
        self.declared = declared_in_git(discovery)
        # One snapshot for the run's reads: every inventory (each is read before its node writes it)
        # and, in a plan, every node's live objects (a plan writes nothing), so collections are listed once.
        self.live = LiveIndex(client)
        self.remotes = RemoteClusters(client, options.kubeconfigs)  # spec.kubeConfig targets

    def record(self, ref: ObjectRef) -> InventoryRecord | None:
        if ref not in self.records:
            self.records[ref] = read_inventory(self.live, ref)
        return self.records[ref]

    def releases_of(self, refs: Iterable[ObjectRef]) -> list[ObjectRef]:
        """The nodes the given Kustomizations render whose readiness is theirs too, so their dependents
        wait for them: every HelmRelease they render, and, when one sets `wait: true`, the
        Kustomizations it renders (kustomize-controller's health check of a Kustomization object is
        its Ready condition), and so on down."""
        nodes = self.discovery.nodes
        found: list[ObjectRef] = []
        queue = [ref for ref in refs if ref in nodes]
        while queue:
            parent = nodes[queue.pop(0)]
            waits = is_kustomization(parent) and parent.spec.wait
            for child in parent.children:
                if child in self.selected and child not in found and child in nodes and (
                        child.kind == "HelmRelease" or waits):
                    found.append(child)
                    queue.append(child)
        return found

    def waits_for(self, node: AnyNode) -> tuple[ObjectRef, ...]:
        """The nodes of this run that must be decided before `node` starts (worked out once: the
        scheduler asks again every time a node finishes)."""
        if node.ref not in self.waits:
            deps = [dep for dep in node.depends_on if dep in self.selected]
            deps += self.releases_of(deps)
            if node.parent in self.selected and self.record(node.ref) is None:
                deps.append(node.parent)
            self.waits[node.ref] = tuple(deps)
        return self.waits[node.ref]

    def blocker(self, node: AnyNode, *, outside_run: bool = True) -> str | None:
        """Why the node may not run now that everything it waits for is decided, or None; with
        `outside_run=False`, only the parent and the dependencies this run decides count."""
        parent = self.results.get(node.parent) if node.parent else None
        if parent is not None and parent.outcome is not Outcome.READY and self.record(node.ref) is None:
            return f"its parent {node.parent} did not apply it ({parent.outcome}), so it does not exist yet"
        for dep in [*node.depends_on, *self.releases_of(node.depends_on)]:
            if not outside_run and dep not in self.selected:
                continue
            why = dependency_blocker(dep, self.results.get(dep), self.record(dep), self.discovery.revision,
                                     _same_source(node, self.discovery.nodes.get(dep)))
            if why:
                return why
        return None

    def decide_without_running(self, node: AnyNode) -> NodeResult | None:
        revision = self.discovery.revision
        blocked = self.discovery.graph.blocked.get(node.ref) or self.blocker(node)
        if blocked and self.previews_past(node):
            self.would_wait[node.ref] = blocked
        elif blocked:
            return self.noted(_not_run(node, revision, Outcome.BLOCKED, "DependencyNotReady", blocked,
                                       (blocked,)))
        if node.error is not None:
            return self.noted(_not_run(node, revision, Outcome.FAILED, "BuildFailed", str(node.error)))
        record = self.record(node.ref)
        if node.spec.suspend or (record is not None and record.suspended):
            where = "spec.suspend" if node.spec.suspend else "fluxpush suspend"
            try:
                self.remember_suspension(node, record)
            except FluxpushError as exc:
                return _not_run(node, revision, Outcome.FAILED, "ReconciliationFailed", f"suspended, but "
                                f"its record could not be updated: {exc}")
            return _not_run(node, revision, Outcome.SUSPENDED, "Suspended", f"suspended by {where}")
        return None

    def previews_past(self, node: AnyNode) -> bool:
        """Whether a preview plans a node although only dependencies outside the run (`diff ks NAME`)
        keep it from applying: as `flux diff ks` it shows what the node would change, and says the
        apply would wait (the node stays blocked, so the verdict is the apply's)."""
        return not self.apply and node.ref not in self.discovery.graph.blocked and \
            self.blocker(node, outside_run=False) is None

    def remember_suspension(self, node: AnyNode, record: InventoryRecord | None) -> None:
        """On apply, store that a node is suspended in Git, so removing it later deletes nothing (as a
        suspended object's finalizer does); only this field of its record changes."""
        policy, why = deletion_policy(node.spec)
        if self.apply and record is not None and (record.deletion_policy, record.deletion_reason) != (
                policy, why):
            store_inventory(self.client, replace(record, deletion_policy=policy, deletion_reason=why),
                            self.options.field_manager)

    def unbuilt_under(self, result: NodeResult) -> list[NodeResult]:
        """The nodes a Kustomization whose build failed held in its inventory: this run could not build
        them (they come from its output), so each is reported as not ready and left untouched, never
        as removed."""
        node = self.discovery.nodes.get(result.node)
        if node is None or node.error is None or result.node.kind != "Kustomization":
            return []
        found: list[NodeResult] = []
        queue = [result.node]
        while queue:
            parent = queue.pop(0)
            record = self.record(parent)
            for entry in record.entries if record else ():
                ref = entry.id.ref
                if is_node_entry(entry.id) and ref not in self.discovery.nodes and ref not in self.results:
                    message = (f"not built: {parent} rendered nothing in this run ({result.reason}); "
                               "its objects and inventory are untouched")
                    plan = NodePlan(ref, self.discovery.revision, (), (), "", (message,))
                    self.results[ref] = NodeResult(ref, Outcome.BLOCKED, "DependencyNotReady", message, plan)
                    found.append(self.results[ref])
                    queue.append(ref)
        return found

    def orphans(self) -> list[NodeResult]:
        """The records no prune will ever collect (see `orphaned_records`), reported as skipped on
        every whole run whose nodes all built; a cluster that refuses the LIST (a role without it)
        just gets no report."""
        try:
            records = self.client.list("v1", "ConfigMap", None, label_selector=INVENTORY_SELECTOR)
        except ClusterError:
            return []
        found = []
        for ref in orphaned_records(records, set(self.discovery.nodes)):
            message = (f"removed from Git, but no inventory holds it, so no prune collects it: its objects "
                       f"stay; delete them by hand, then its record ConfigMap {ref.namespace}/"
                       f"{inventory_name(ref)}")
            plan = NodePlan(ref, self.discovery.revision, (), (
                ObjectChange(node_object_id(ref), Action.SKIP, message),))
            found.append(NodeResult(ref, Outcome.SKIPPED, "Orphaned", message, plan))
        return found

    def node_run(self, node: AnyNode) -> NodeRun:
        """What the node's reconciler is given; raises InputError when its spec.kubeConfig cluster
        cannot be reached."""
        return NodeRun(self.discovery, self.client, self.options, self.record(node.ref), self.declared,
                       self.live, self.reconcilers, self.remotes.target_for(node.spec),
                       self.announcer(node.ref))

    def reconcile(self, node: AnyNode) -> NodeResult:
        """Plan or apply the node by its kind's reconciler."""
        started = time.monotonic()
        self.observer.started(node.ref, self.apply)
        try:
            if self.apply:
                return self.reconcilers.apply(node, self.node_run(node))
            plan = self.reconcilers.plan(node, self.node_run(node))
        except FluxpushError as exc:
            failed = _not_run(node, self.discovery.revision, Outcome.FAILED, "ReconciliationFailed", str(exc))
            return self.noted(failed)
        waits = self.would_wait.get(node.ref)
        if plan.error:
            outcome, reason, message = Outcome.FAILED, "Planned", plan.error
        elif waits:
            outcome, reason, message = Outcome.BLOCKED, "DependencyNotReady", f"an apply would wait: {waits}"
            plan = replace(plan, blocked_by=(waits,))
        else:
            outcome, reason, message = Outcome.READY, "Planned", "planned"
        return NodeResult(node.ref, outcome, reason, message, plan, duration=time.monotonic() - started)

    def noted(self, result: NodeResult) -> NodeResult:
        """On apply, store a node's failure that never reached its apply (build failed, blocked) in its
        record as kustomize-controller sets the Kustomization's status: Ready=False with the reason, and
        lastAttemptedRevision = this run's; only those status fields change (entries, objects and
        lastAppliedRevision stay). A node with no record yet keeps none; previews never write."""
        record = self.record(result.node)
        if not self.apply or record is None:
            return result
        try:
            store_inventory(self.client, failed_status(record, self.discovery.revision, result.reason,
                                                       result.message), self.options.field_manager)
        except FluxpushError as exc:
            return replace(result, message=f"{result.message}\nstatus not stored: {exc}")
        return result

    def announcer(self, ref: ObjectRef) -> Announce:
        """Tell the observer a node's changes before they are written."""
        return lambda changes: self.observer.planned(ref, changes)

    def decided(self, result: NodeResult, finished: list[NodeResult]) -> None:
        """Record a node's result and tell the observer."""
        self.results[result.node] = result
        finished.append(result)
        self.observer.finished(result)

    def interrupt(self, node: AnyNode) -> NodeResult:
        """The result of a node the interruption kept from starting."""
        message = f"not started: the run was interrupted ({self.client.stop.signal_name})"
        return _not_run(node, self.discovery.revision, Outcome.INTERRUPTED, "Interrupted", message)



def _start_ready(runner: _Runner, order: list[ObjectRef], pending: dict[ObjectRef, AnyNode],
                 finished: list[NodeResult], start: Callable[[AnyNode], None]) -> bool:
    """One pass over the pending nodes in order: each whose waits are all decided is decided without
    running (blocked, failed to build, suspended) or started. True when one was decided here, since
    that may free a node earlier in the order (a HelmRelease waits for the parent rendering it)."""
    decided_any = False
    for ref in [r for r in order if r in pending]:
        node = pending[ref]
        if any(dep not in runner.results for dep in runner.waits_for(node)):
            continue
        del pending[ref]
        decided = runner.decide_without_running(node)
        if decided is None:
            start(node)
            continue
        runner.decided(decided, finished)
        decided_any = True
    return decided_any


def run_nodes(
    discovery: Discovery,
    client: KubeClient,
    options: EngineOptions,
    *,
    apply: bool,
    reconcilers: Reconcilers,
    targets: Iterable[ObjectRef] | None = None,
    observer: RunObserver | None = None,
) -> RunResult:
    """Plan (apply=False) or apply every node (or only `targets`), in dependency order, each by its
    kind's reconciler. Raises NoReconciler, before anything is read or written, when a selected node's
    kind has none in `reconcilers`."""
    started, requests_before = time.monotonic(), client.request_count
    selected = set(targets) if targets is not None else set(discovery.nodes)
    reconcilers.require(ref.kind for ref in selected)
    runner = _Runner(discovery, client, options, apply, selected, observer or RunObserver(), reconcilers)
    order = [ref for ref in discovery.graph.order() if ref in selected]
    order += sorted(ref for ref in selected if ref not in order)
    pending = {ref: discovery.nodes[ref] for ref in order}
    running: dict[Future[NodeResult], ObjectRef] = {}
    finished: list[NodeResult] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool:
            def start(node: AnyNode) -> None:
                running[pool.submit(runner.reconcile, node)] = node.ref

            while pending or running:
                if client.stop.stopped:
                    for ref in [r for r in order if r in pending]:
                        runner.decided(runner.interrupt(pending.pop(ref)), finished)
                while _start_ready(runner, order, pending, finished, start):
                    pass  # a node decided without running may free one earlier in the order
                if not running:
                    for node in list(pending.values()):  # only when waits form a loop the graph did not see
                        del pending[node.ref]
                        message = "waits for a node that waits for it"
                        looped = _not_run(node, discovery.revision, Outcome.BLOCKED, "DependencyNotReady",
                                          message, (message,))
                        runner.decided(looped, finished)
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    runner.decided(future.result(), finished)
    finally:
        runner.remotes.close()
    for untouched in [u for result in list(finished) for u in runner.unbuilt_under(result)]:
        runner.decided(untouched, finished)
    whole = targets is None and not any(node.error for node in discovery.nodes.values())
    for orphan in runner.orphans() if whole and not client.stop.stopped else ():  # Git's whole tree known
        runner.decided(orphan, finished)
    return RunResult(
        discovery.revision,
        _in_apply_order(discovery, finished),
        client.request_count - requests_before,
        time.monotonic() - started,
        client.stop.signal_name if client.stop.stopped else "",
    )


def _in_apply_order(discovery: Discovery, results: list[NodeResult]) -> tuple[NodeResult, ...]:
    """The results in apply order, whatever order the workers finished in (stable output)."""
    position = {node.ref: i for i, node in enumerate(discovery.ordered_nodes())}
    return tuple(sorted(results, key=lambda result: position.get(result.node, len(position))))
