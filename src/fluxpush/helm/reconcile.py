"""The HelmRelease reconciler (`HelmReleaseReconciler`): `plan_release` → `NodePlan`, `apply_release` →
`NodeResult`, and the uninstall of a release removed from Git.

The plan holds one change for the release itself (install / upgrade with the chart version change
and a masked values diff / unchanged) followed by the rendered objects planned like any node's
(create/update/unchanged, Secrets masked), and, as prune candidates, the objects the deployed
revision holds that the new one does not (helm deletes them on upgrade). Applying runs the helm
action only when the config digest says something changed, then stores an inventory record
(Flux's entries plus the release's name and namespace and its deletion policy) so a HelmRelease
removed from Git is uninstalled by its parent's prune (planning/removal.py), through this reconciler.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fluxpush.errors import FluxpushError
from fluxpush.flux.kinds import HELM_GROUP
from fluxpush.flux.model import HelmRelease, ObjectLookup, ObjectRef
from fluxpush.helm.drift import (
    FIELD_MANAGER,
    cluster_namespaced,
    detect_drift,
    drift_mode,
    offline_namespaced,
    place_objects,
)
from fluxpush.helm.release import (
    Decision,
    ReleaseAction,
    ReleaseLog,
    decide_action,
    run_release,
    uninstall_release,
)
from fluxpush.helm.session import HelmSession
from fluxpush.helm.sources import ChartCache, ResolvedChart, resolve_chart
from fluxpush.helm.storage import StoredRelease, latest_release
from fluxpush.helm.template import (
    Capabilities,
    cluster_capabilities,
    post_render_config,
    render_release,
    with_ownership,
)
from fluxpush.helm.values import ComposedValues, compose_values, values_diff
from fluxpush.kube import KubeClient
from fluxpush.nodes import HelmReleaseNode
from fluxpush.planning import inventory as inv
from fluxpush.planning.inventory import InventoryRecord, entries_from_objects
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.normalize import ObjectId, object_id
from fluxpush.planning.options import EngineOptions
from fluxpush.planning.plan import Action, NodePlan, ObjectChange
from fluxpush.planning.planner import plan_objects
from fluxpush.planning.removal import Removal, deletion_policy
from fluxpush.planning.result import NodeResult, Outcome
from fluxpush.planning.store import store_inventory
from fluxpush.reconciler import NodeRun, Repository

DIGEST_CHARS = 40  # of the SHA-256 hex, so the digest fits a label value (63)


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything decided before helm runs: chart, values, digest, the stored release and the action."""

    hr: HelmRelease
    chart: ResolvedChart
    values: ComposedValues
    digest: str
    latest: StoredRelease | None
    decision: Decision


def _lookup(repository: Repository, client: KubeClient) -> ObjectLookup:
    """ConfigMaps/Secrets from the rendered repository first, then the live cluster."""

    def lookup(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return repository.rendered(kind, namespace, name) or client.get("v1", kind, name, namespace)

    return lookup


def config_digest(hr: HelmRelease, chart: ResolvedChart, values: dict[str, Any]) -> str:
    """What decides "changed": chart name, version and content, values, post-render settings, placement."""
    data = {"chart": [chart.name, chart.version, chart.digest], "values": values,
            "postRender": post_render_config(hr), "targetNamespace": hr.target_namespace}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:DIGEST_CHARS]


def prepare_release(node: HelmReleaseNode, repository: Repository, client: KubeClient,
                    cache: ChartCache | None = None, record: InventoryRecord | None = None,
                    workload: KubeClient | None = None) -> Prepared:
    """Resolve the chart and values and decide the action; raises FluxpushError when it cannot.

    valuesFrom are read from `client` (the HelmRelease's cluster); the release storage from
    `workload` (the spec.kubeConfig cluster, as helm-controller keeps it there), default `client`.
    """
    hr = node.spec
    lookup = _lookup(repository, client)
    chart = resolve_chart(hr, repository, lookup, cache=cache)
    values = compose_values(hr, lookup)
    digest = config_digest(hr, chart, values.values)
    latest = latest_release(workload or client, hr.release_name, hr.target_namespace)
    ready = record.condition("Ready") if record else None
    last_failed = ready is not None and ready.status == "False"
    return Prepared(hr, chart, values, digest, latest, decide_action(latest, digest, last_failed=last_failed))


def _release_id(hr: HelmRelease) -> ObjectId:
    return ObjectId(HELM_GROUP, "HelmRelease", hr.ref.namespace, hr.ref.name)


def release_change(prepared: Prepared) -> ObjectChange:
    """The plan entry of the release itself: action, chart version change and masked values diff."""
    hr, chart, latest = prepared.hr, prepared.chart, prepared.latest
    target = f"{chart.name}@{chart.version}"
    if prepared.decision.action is ReleaseAction.NONE:
        return ObjectChange(_release_id(hr), Action.UNCHANGED, f"release {hr.release_name}: {target}")
    lines = []
    if latest is None or latest.status == "uninstalled":
        action, reason = Action.CREATE, f"install {target} as release {hr.target_namespace}/{hr.release_name}"
    else:
        action = Action.UPDATE
        before = f"{latest.chart_name}@{latest.chart_version}"
        change = f"chart {before} -> {target}" if before != target else f"chart {target}"
        reason = f"upgrade release {hr.target_namespace}/{hr.release_name} (revision {latest.revision}): " \
                 f"{change}; {prepared.decision.reason}"
        lines.append(f"chart: {before} -> {target}")
    if hr.storage_namespace != hr.target_namespace:
        reason += f"; stored in {hr.target_namespace}, not storageNamespace {hr.storage_namespace} " \
                  "(the helm CLI keeps a release with its objects)"
    lines += [f"values.{line}" for line in values_diff(latest.config if latest else None, prepared.values)]
    paths = tuple(line.split(":", 1)[0] for line in lines)
    return ObjectChange(_release_id(hr), action, reason, "\n".join(lines) + ("\n" if lines else ""), paths)


def _render(session: HelmSession, client: KubeClient, prepared: Prepared) -> list[dict[str, Any]]:
    upgrading = prepared.decision.action is not ReleaseAction.INSTALL
    objects = render_release(session, prepared.hr, prepared.chart, prepared.values.values,
                             cluster_capabilities(client), upgrading=upgrading)
    return place_objects(objects, prepared.hr.target_namespace, cluster_namespaced(client))


def _deployed_objects(client: KubeClient, prepared: Prepared) -> list[dict[str, Any]]:
    """The deployed revision's objects as helm applied them (ownership metadata, namespaces)."""
    stored = prepared.latest.manifest_objects() if prepared.latest else []
    objects = [with_ownership(obj, prepared.hr) for obj in stored]
    return place_objects(objects, prepared.hr.target_namespace, cluster_namespaced(client))


def _plan_with(prepared: Prepared, objects: list[dict[str, Any]], client: KubeClient, options: EngineOptions,
               revision: str, node: ObjectRef, cluster: str = "") -> NodePlan:
    planned = plan_objects(objects, LiveIndex(client), options.way, field_manager=FIELD_MANAGER)
    errors = "\n".join(str(p.error) for p in planned if p.error is not None)
    rendered = {object_id(o) for o in objects}
    gone = [object_id(o) for o in _deployed_objects(client, prepared)]
    prune = tuple(ObjectChange(oid, Action.DELETE, "not in the new revision; helm deletes it")
                  for oid in dict.fromkeys(gone) if oid not in rendered)
    changes = (release_change(prepared), *(_drift_rule(prepared, p.change) for p in planned))
    return NodePlan(node, revision, changes, prune, errors, cluster=cluster)


def _drift_rule(prepared: Prepared, change: ObjectChange) -> ObjectChange:
    """The one rule `diff` and `apply` share for a release helm will not run again: a live object
    that differs is corrected only with `driftDetection.mode: enabled`, as helm-controller does;
    otherwise it is reported as a skip that says so, and is not a change."""
    mode = drift_mode(prepared.hr)
    if prepared.decision.action is not ReleaseAction.NONE or mode == "enabled" or \
            change.action not in (Action.CREATE, Action.UPDATE):
        return change
    reason = f"drifted from release {prepared.hr.release_name}; not corrected: driftDetection.mode is {mode}"
    return ObjectChange(change.id, Action.SKIP, reason, change.diff, change.changed_paths)


def render_offline(node: HelmReleaseNode, repository: Repository, *, cache: ChartCache | None = None,
                   offline: bool = False) -> tuple[ResolvedChart, list[dict[str, Any]]]:
    """The chart and rendered objects of a HelmRelease without a cluster (for `--base` previews):
    values from the rendered repository only, helm's default capabilities, charts from the cache
    when the repository cannot be reached. Raises FluxpushError (naming the chart) when it cannot."""
    hr = node.spec
    chart = resolve_chart(hr, repository, repository.rendered, cache=cache, offline=offline)
    values = compose_values(hr, repository.rendered)
    with HelmSession() as session:
        objects = render_release(session, hr, chart, values.values, Capabilities("", ()), upgrading=False)
    return chart, place_objects(objects, hr.target_namespace, offline_namespaced)


class HelmReleaseReconciler:
    """The HelmRelease kind's reconciler: plans and applies a release, uninstalls one removed from Git."""

    def __init__(self, cache: ChartCache | None = None) -> None:
        self.cache = cache  # None: the user's chart cache (see `helm.sources.cache_dir`)

    def plan(self, node: HelmReleaseNode, run: NodeRun) -> NodePlan:
        """See `plan_release`."""
        return plan_release(node, run, self.cache)

    def apply(self, node: HelmReleaseNode, run: NodeRun) -> NodeResult:
        """See `apply_release`."""
        return apply_release(node, run, self.cache)

    def remove(self, client: KubeClient, removal: Removal, timeout: float) -> str:
        """Uninstall the release of a HelmRelease removed from Git (helm deletes its objects)."""
        namespace, name = removal.release or (removal.node.namespace, removal.node.name)
        with HelmSession(client) as session:
            uninstall_release(session, name, namespace, node=str(removal.node))
        return ""


def plan_release(node: HelmReleaseNode, run: NodeRun, cache: ChartCache | None = None) -> NodePlan:
    """The node's plan without writing anything (a preview of the release and its objects); with a
    target (spec.kubeConfig) the release and its objects are read in that cluster."""
    workload, cluster = (run.target.client, run.target.name) if run.target else (run.client, "")
    try:
        prepared = prepare_release(node, run.repository, run.client, cache, run.record, workload)
        with HelmSession(workload) as session:
            objects = _render(session, workload, prepared)
    except FluxpushError as exc:
        return NodePlan(node.ref, run.revision, (), (), str(exc), cluster=cluster)
    return _plan_with(prepared, objects, workload, run.options, run.revision, node.ref, cluster)


def apply_release(node: HelmReleaseNode, run: NodeRun, cache: ChartCache | None = None) -> NodeResult:
    """Install/upgrade the release when needed and store its inventory; never raises for its failures.
    `run.announce` hears the planned changes before helm writes them.

    With a target (spec.kubeConfig) helm runs against that cluster with a kubeconfig of its own, and
    the release storage lives there, as helm-controller keeps it; the inventory stays in `run.client`'s.
    """
    started, clock = datetime.now(UTC), time.monotonic()
    hr, client, options, record, announce = node.spec, run.client, run.options, run.record, run.announce
    revision = run.revision
    log = ReleaseLog()
    workload, cluster = (run.target.client, run.target.name) if run.target else (client, "")
    plan = NodePlan(node.ref, revision, cluster=cluster)
    objects: list[dict[str, Any]] = []
    try:
        prepared = prepare_release(node, run.repository, client, cache, record, workload)
        with HelmSession(workload) as session:
            if prepared.decision.action is ReleaseAction.NONE:
                objects = _deployed_objects(workload, prepared)
                plan = _plan_with(prepared, objects, workload, options, revision, node.ref, cluster)
                failure = None
                if drift_mode(prepared.hr) != "disabled":
                    drift = detect_drift(workload, prepared.hr, objects)
                    if drift.objects:
                        log.add(drift.message())
            else:
                objects = _render(session, workload, prepared)
                plan = _plan_with(prepared, objects, workload, options, revision, node.ref, cluster)
                if announce is not None:
                    announce(plan.changes)
                failure = run_release(session, workload, prepared.hr, prepared.chart, prepared.values.values,
                                      prepared.digest, prepared.decision, log)
        ok = failure is None
        reason = inv.RECONCILIATION_SUCCEEDED if ok else inv.RECONCILIATION_FAILED
        message = "; ".join(log.steps) or prepared.decision.reason
        if failure:
            message = f"{message}\n{failure}"
    except FluxpushError as exc:
        ok, reason, message = False, inv.RECONCILIATION_FAILED, str(exc)
        if not log.steps:  # helm never ran (refused, interrupted, not renderable): nothing to record
            objects = []
    duration = time.monotonic() - clock
    now = datetime.now(UTC)
    policy, why = deletion_policy(node.spec)
    stored = InventoryRecord(
        node=node.ref,
        entries=entries_from_objects(objects) if ok or record is None else record.entries,
        last_applied_revision=revision if ok else (record.last_applied_revision if record else ""),
        last_attempted_revision=revision,
        conditions=(inv.ready_condition(ok, reason, message.splitlines()[0][:1000], now),),
        started_at=inv.format_time(started), finished_at=inv.format_time(now),
        duration_seconds=round(duration, 3), suspended=record.suspended if record else False,
        deletion_policy=policy, deletion_reason=why,
        release=f"{hr.target_namespace}/{hr.release_name}", cluster=cluster)
    try:
        store_inventory(client, stored, options.field_manager)
    except FluxpushError as exc:
        ok, message = False, f"{message}\ninventory not stored: {exc}"
    applied = tuple(c for c in plan.changes + plan.prune
                    if c.action in (Action.CREATE, Action.UPDATE, Action.DELETE)) if ok else ()
    if not ok:
        plan = NodePlan(plan.node, revision, plan.changes, plan.prune, message, cluster=cluster)
    outcome = Outcome.READY if ok else Outcome.FAILED
    return NodeResult(node.ref, outcome, reason, message, plan, applied, duration)
