"""Run a plan or an apply over every node of a discovery, in dependency order.

A node starts as soon as the nodes it `dependsOn` are Ready (and, the first time, the parent that
renders it has run, as in Flux where a child exists only once its parent applied it). Independent
nodes run concurrently, bounded by `EngineOptions.concurrency`. A node whose dependency failed is
reported `DependencyNotReady` and not touched; its independents go on. A dependency outside the
run (`reconcile ks NAME`) counts as ready when its stored inventory says so, as Flux reads the
live Ready condition.

An interrupted run (the client's `StopSwitch` thrown by SIGTERM/SIGINT) starts no new node: the
nodes still waiting end `Interrupted`, the running ones finish with their remaining writes refused
and their inventories stored. A `RunObserver` hears each node start, its changes before they are
written, and its result, so a face can stream the run as it happens.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from fluxpush.discover import Discovery, Node
from fluxpush.engine.inventory import InventoryRecord
from fluxpush.engine.live import LiveIndex
from fluxpush.engine.normalize import ObjectId
from fluxpush.engine.options import EngineOptions
from fluxpush.engine.plan import Action, NodePlan, ObjectChange, Plan
from fluxpush.engine.planner import read_inventory
from fluxpush.engine.reconcile import Announce, NodeResult, Outcome, apply_node, plan_node
from fluxpush.errors import FluxpushError
from fluxpush.flux.kinds import HELM_GROUP, KUSTOMIZE_GROUP
from fluxpush.flux.model import HelmRelease, ObjectRef
from fluxpush.helm.reconcile import apply_release, plan_release, uninstall_removed
from fluxpush.kube import KubeClient


class RunObserver:
    """What a face hears while a run goes on (from the run's worker threads); hears nothing by default."""

    def started(self, ref: ObjectRef, applying: bool) -> None:
        """A node starts planning or applying."""

    def planned(self, ref: ObjectRef, changes: Sequence[ObjectChange]) -> None:
        """A node's changes, before they are written (once per apply stage)."""

    def finished(self, result: NodeResult) -> None:
        """A node's result, as soon as it is decided."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """Every node's result in the order they finished being decided, and the run's request count."""

    revision: str
    results: tuple[NodeResult, ...]
    requests: int
    duration: float

    @property
    def plan(self) -> Plan:
        """The plans (or applied changes) of every node."""
        return Plan(tuple(result.plan for result in self.results))

    interrupted: str = ""  # the signal's name when the run was interrupted

    @property
    def ok(self) -> bool:
        """Whether no node failed or was blocked, and the run was not interrupted."""
        return not self.interrupted and all(result.ok for result in self.results)

    @property
    def changed(self) -> bool:
        """Whether anything was (or would be) written."""
        return any(result.applied for result in self.results) or self.plan.has_changes


def _node_object_id(ref: ObjectRef) -> ObjectId:
    group = KUSTOMIZE_GROUP if ref.kind == "Kustomization" else HELM_GROUP
    return ObjectId(group, ref.kind, ref.namespace, ref.name)


def _not_run(
    node: Node, revision: str, outcome: Outcome, reason: str, message: str, blocked_by: tuple[str, ...] = ()
) -> NodeResult:
    changes = (
        () if outcome is Outcome.BLOCKED else (ObjectChange(_node_object_id(node.ref), Action.SKIP, message),)
    )
    error = message if outcome is Outcome.FAILED else ""
    plan = NodePlan(str(node.ref), revision, changes, (), error, blocked_by)
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
    ) -> None:
        self.discovery = discovery
        self.client = client
        self.options = options
        self.apply = apply
        self.selected = selected
        self.observer = observer
        self.records: dict[ObjectRef, InventoryRecord | None] = {}
        self.waits: dict[ObjectRef, tuple[ObjectRef, ...]] = {}
        self.results: dict[ObjectRef, NodeResult] = {}
        # One snapshot for the run's reads: every inventory (each is read before its node writes it)
        # and, in a plan, every node's live objects (a plan writes nothing), so collections are listed once.
        self.live = LiveIndex(client)

    def record(self, ref: ObjectRef) -> InventoryRecord | None:
        if ref not in self.records:
            self.records[ref] = read_inventory(self.live, ref)
        return self.records[ref]

    def releases_of(self, refs: Iterable[ObjectRef]) -> list[ObjectRef]:
        """The HelmReleases the given Kustomizations render: their dependents wait for those too."""
        nodes = self.discovery.nodes
        return [child for ref in refs if ref in nodes for child in nodes[ref].children
                if child.kind == "HelmRelease" and child in self.selected]

    def waits_for(self, node: Node) -> tuple[ObjectRef, ...]:
        """The nodes of this run that must be decided before `node` starts (worked out once: the
        scheduler asks again every time a node finishes)."""
        if node.ref not in self.waits:
            deps = [dep for dep in node.depends_on if dep in self.selected]
            deps += self.releases_of(deps)
            if node.parent in self.selected and self.record(node.ref) is None:
                deps.append(node.parent)
            self.waits[node.ref] = tuple(deps)
        return self.waits[node.ref]

    def blocker(self, node: Node) -> str | None:
        """Why the node may not run now that everything it waits for is decided, or None."""
        for dep in [*node.depends_on, *self.releases_of(node.depends_on)]:
            if dep in self.selected:
                result = self.results[dep]
                if result.outcome is not Outcome.READY:
                    return f"dependency '{dep.namespace}/{dep.name}' is not ready ({result.outcome})"
            else:
                record = self.record(dep)
                ready = record.condition("Ready") if record else None
                if ready is None or ready.status != "True":
                    return f"dependency '{dep.namespace}/{dep.name}' is not ready"
        return None

    def decide_without_running(self, node: Node) -> NodeResult | None:
        revision = self.discovery.revision
        blocked = self.discovery.graph.blocked.get(node.ref) or self.blocker(node)
        if blocked:
            return _not_run(node, revision, Outcome.BLOCKED, "DependencyNotReady", blocked, (blocked,))
        if node.error is not None:
            return _not_run(node, revision, Outcome.FAILED, "BuildFailed", str(node.error))
        record = self.record(node.ref)
        if node.spec.suspend or (record is not None and record.suspended):
            where = "spec.suspend" if node.spec.suspend else "fluxpush suspend"
            return _not_run(node, revision, Outcome.SUSPENDED, "Suspended", f"suspended ({where})")
        return None

    def reconcile(self, node: Node) -> NodeResult:
        started = time.monotonic()
        self.observer.started(node.ref, self.apply)
        try:
            if isinstance(node.spec, HelmRelease):
                result = self.reconcile_release(node, started)
            elif self.apply:
                result = apply_node(
                    node, self.discovery.revision, self.client, self.options, self.record(node.ref),
                    announce=self.announcer(node.ref),
                )
            else:
                plan = plan_node(
                    node, self.discovery.revision, self.live, self.options, self.record(node.ref)
                )
                outcome = Outcome.FAILED if plan.error else Outcome.READY
                result = NodeResult(
                    node.ref,
                    outcome,
                    "Planned",
                    plan.error or "planned",
                    plan,
                    duration=time.monotonic() - started,
                )
        except FluxpushError as exc:
            result = _not_run(node, self.discovery.revision, Outcome.FAILED, "ReconciliationFailed", str(exc))
        return result

    def announcer(self, ref: ObjectRef) -> Announce:
        """Tell the observer a node's changes before they are written."""
        return lambda changes: self.observer.planned(ref, changes)

    def decided(self, result: NodeResult, finished: list[NodeResult]) -> None:
        """Record a node's result and tell the observer."""
        self.results[result.node] = result
        finished.append(result)
        self.observer.finished(result)

    def interrupt(self, node: Node) -> NodeResult:
        """The result of a node the interruption kept from starting."""
        message = f"not started: the run was interrupted ({self.client.stop.signal_name})"
        return _not_run(node, self.discovery.revision, Outcome.INTERRUPTED, "Interrupted", message)

    def reconcile_release(self, node: Node, started: float) -> NodeResult:
        if self.apply:
            return apply_release(node, self.discovery, self.client, self.options, self.record(node.ref),
                                 announce=self.announcer(node.ref))
        plan = plan_release(node, self.discovery, self.client, self.options, self.record(node.ref))
        outcome = Outcome.FAILED if plan.error else Outcome.READY
        return NodeResult(node.ref, outcome, "Planned", plan.error or "planned", plan,
                          duration=time.monotonic() - started)


def run_nodes(
    discovery: Discovery,
    client: KubeClient,
    options: EngineOptions,
    *,
    apply: bool,
    targets: Iterable[ObjectRef] | None = None,
    observer: RunObserver | None = None,
) -> RunResult:
    """Plan (apply=False) or apply every node (or only `targets`), in dependency order."""
    started, requests_before = time.monotonic(), client.request_count
    selected = set(targets) if targets is not None else set(discovery.nodes)
    runner = _Runner(discovery, client, options, apply, selected, observer or RunObserver())
    order = [ref for ref in discovery.graph.order() if ref in selected]
    order += sorted(ref for ref in selected if ref not in order)
    pending = {ref: discovery.nodes[ref] for ref in order}
    running: dict[Future[NodeResult], ObjectRef] = {}
    finished: list[NodeResult] = []
    with ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool:
        while pending or running:
            if client.stop.stopped:
                for ref in [r for r in order if r in pending]:
                    runner.decided(runner.interrupt(pending.pop(ref)), finished)
            for ref in [r for r in order if r in pending]:
                node = pending[ref]
                if any(dep not in runner.results for dep in runner.waits_for(node)):
                    continue
                del pending[ref]
                decided = runner.decide_without_running(node)
                if decided is not None:
                    runner.decided(decided, finished)
                else:
                    running[pool.submit(runner.reconcile, node)] = ref
            if not running:
                for node in list(pending.values()):  # only when waits form a loop the graph did not see
                    del pending[node.ref]
                    runner.decided(_not_run(node, discovery.revision, Outcome.BLOCKED, "DependencyNotReady",
                                            "waits for a node that waits for it", ()), finished)
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                running.pop(future)
                runner.decided(future.result(), finished)
    if targets is None and not client.stop.stopped:  # HelmReleases removed from Git: only on whole runs
        for result in uninstall_removed(discovery, client, options, apply=apply):
            runner.decided(result, finished)
    return RunResult(
        discovery.revision,
        tuple(finished),
        client.request_count - requests_before,
        time.monotonic() - started,
        client.stop.signal_name if client.stop.stopped else "",
    )
