"""The use cases both faces run against a cluster: preview, deploy (reconcile is a deploy of a
selection), suspend/resume, and the cluster's stored status. `_run` is the one call to the engine.

Each takes a face-neutral request and returns plain results; the faces print, annotate and post them.
A face hears the run as it happens through `RunHooks` (the engine's `RunObserver` plus the discovery).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from fluxpush.app.cluster import open_cluster
from fluxpush.app.lookups import live_variable_lookup, provider_secret_lookup
from fluxpush.app.reconcilers import default_reconcilers
from fluxpush.app.request import CheckoutRequest, ClusterTarget, RunSettings, discover_checkout
from fluxpush.app.selection import EVERY_NODE, NodeSelection, select
from fluxpush.engine import planfile
from fluxpush.engine.lease import ClusterLease, holder_identity
from fluxpush.engine.run import RunObserver, RunResult, run_nodes
from fluxpush.errors import ClusterError
from fluxpush.flux.model import ObjectRef
from fluxpush.helm.status import release_status
from fluxpush.kube import KubeClient
from fluxpush.kube.stop import StopSwitch
from fluxpush.planning.inventory import InventoryRecord
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.options import FIELD_MANAGER, EngineOptions
from fluxpush.planning.planner import read_inventory
from fluxpush.planning.store import store_inventory
from fluxpush.report.notify import Delivery
from fluxpush.report.run_events import notify_run
from fluxpush.repository.discover import Discovery


class RunHooks(RunObserver):
    """What a face hears during a use case: each node's progress (see `RunObserver`) and, first, the
    discovered checkout with the nodes selected; hears nothing by default."""

    def discovered(self, discovery: Discovery, targets: Sequence[ObjectRef] | None) -> None:
        """The checkout was discovered and the nodes selected (None: every node), before any node runs."""


@dataclass(frozen=True, slots=True)
class RunRequest:
    """A run against a cluster, as a face asks for it."""

    target: ClusterTarget
    checkout: CheckoutRequest
    options: EngineOptions
    settings: RunSettings
    selection: NodeSelection = EVERY_NODE
    hooks: RunHooks = field(default_factory=RunHooks)
    stop: StopSwitch | None = None  # once thrown, the run starts no new write


@dataclass(frozen=True, slots=True)
class Preview:
    """A plan of the selected nodes (nothing written) and, when asked for and complete, the
    executable plan file."""

    run: RunResult
    discovery: Discovery
    plan_file: planfile.PlanFile | None = None


@dataclass(frozen=True, slots=True)
class Deployment:
    """An apply of the selected nodes under the cluster's Lease, and what followed it."""

    run: RunResult
    discovery: Discovery
    deliveries: tuple[Delivery, ...] = ()  # notifications sent through the repository's Alerts
    release_error: ClusterError | None = None  # the Lease could not be released
    execution: planfile.Execution | None = None  # how a plan file was checked before applying


def _run(discovery: Discovery, client: KubeClient, options: EngineOptions, *, apply: bool,
         targets: Sequence[ObjectRef] | None, hooks: RunHooks) -> RunResult:
    """The one call from either face to the engine."""
    return run_nodes(discovery, client, options, apply=apply, reconcilers=default_reconcilers(),
                     targets=targets, observer=hooks)


def _discover(request: RunRequest, client: KubeClient) -> tuple[Discovery, list[ObjectRef] | None]:
    discovery = discover_checkout(request.checkout, request.settings, live_variable_lookup(client))
    targets = select(discovery, request.selection)
    request.hooks.discovered(discovery, targets)
    return discovery, targets


def preview(request: RunRequest, *, executable: bool = False) -> Preview:
    """Plan the selected nodes against the cluster; writes nothing. `executable`: also return the plan
    file `deploy(planned=…)` can execute (not when a signal interrupted the plan: it is incomplete)."""
    with open_cluster(request.target, request.stop) as client:
        discovery, targets = _discover(request, client)
        snapshot = planfile.read_snapshot(client, discovery) if executable else None  # before planning
        run = _run(discovery, client, request.options, apply=False, targets=targets, hooks=request.hooks)
    if snapshot is None or run.interrupted:
        return Preview(run, discovery)
    return Preview(run, discovery, planfile.make_plan_file(run.plan, discovery, snapshot, request.options))


def deploy(request: RunRequest, *, lease_wait: float, notify: bool = True,
           planned: planfile.PlanFile | None = None) -> Deployment:
    """Apply the selected nodes holding the cluster's Lease (waiting up to `lease_wait` seconds for
    another run's), then, unless interrupted, send the results through the repository's Alerts.

    With `planned`, apply exactly that plan file: it is checked against the checkout and the cluster
    under the Lease, so no other run moves the cluster meanwhile."""
    with open_cluster(request.target, request.stop) as client:
        discovery, targets = _discover(request, client)
        # A malformed $FLUXPUSH_PROVIDER_SECRETS stops the run here, before it writes.
        secrets = provider_secret_lookup(client, request.settings.environ) if notify else None
        execution = None
        with ClusterLease(client, holder_identity(request.settings.who), wait_seconds=lease_wait) as lease:
            if planned is not None:
                execution = planfile.verify(planned, discovery, planfile.read_snapshot(client, discovery),
                                            request.options)
                discovery = execution.discovery
            run = _run(discovery, client, request.options, apply=True, targets=targets, hooks=request.hooks)
        deployment = Deployment(run, discovery, release_error=lease.release_error, execution=execution)
        if secrets is None or run.interrupted:
            return deployment
        deliveries = notify_run(run, discovery, secrets, run_url=request.settings.run_url)
    return replace(deployment, deliveries=tuple(deliveries))


def set_suspended(target: ClusterTarget, ref: ObjectRef, suspended: bool) -> None:
    """Set or clear a node's suspended mark in its stored inventory (`suspend`/`resume`)."""
    with open_cluster(target) as client:
        record = read_inventory(LiveIndex(client), ref) or InventoryRecord(node=ref)
        store_inventory(client, replace(record, suspended=suspended), FIELD_MANAGER)


def cluster_status(target: ClusterTarget, discovery: Discovery, *,
                   releases: bool) -> dict[ObjectRef, dict[str, Any]]:
    """Each Kustomization's stored status in the cluster (Ready, reason, revisions, suspend) and, with
    `releases`, each HelmRelease's release status; one client for both. In apply order."""
    ordered = discovery.ordered_nodes()
    with open_cluster(target) as client:
        status = _kustomization_status(LiveIndex(client), [n.ref for n in ordered])
        if releases:
            status.update(release_status(client, ordered))
    return {n.ref: status[n.ref] for n in ordered if n.ref in status}


def _kustomization_status(index: LiveIndex, refs: list[ObjectRef]) -> dict[ObjectRef, dict[str, Any]]:
    status: dict[ObjectRef, dict[str, Any]] = {}
    for ref in refs:
        if ref.kind != "Kustomization":
            continue
        record = read_inventory(index, ref)
        ready = record.condition("Ready") if record else None
        status[ref] = {
            "ready": ready.status if ready else "Unknown",
            "reason": ready.reason if ready else "NotApplied",
            "message": ready.message if ready else "never applied by fluxpush",
            "lastAppliedRevision": record.last_applied_revision if record else "",
            "lastAttemptedRevision": record.last_attempted_revision if record else "",
            "suspended": record.suspended if record else False,
            "finishedAt": record.finished_at if record else "",
            "objects": len(record.entries) if record else 0,
        }
    return status
