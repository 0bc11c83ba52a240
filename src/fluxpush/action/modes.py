"""What the action does per mode, returning plain results for reporting.

    push               → apply     every node, holding the cluster's Lease
    pull_request       → plan      a preview: against the live cluster with read-only requests when
                                   cluster credentials are given (and the PR is not from a fork),
                                   else offline, the base branch's rendering against the PR's
    workflow_dispatch  → reconcile the `targets` (or every node)

`dry-run` turns apply and reconcile into a plan (with server dry runs: those credentials may write).
A preview never writes to the cluster: it plans the read-only way (LIST/GET only, no dry runs), so a
view-only role is enough.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fluxpush.action.config import ActionConfig, is_inline_kubeconfig
from fluxpush.action.events import RunContext
from fluxpush.action.offline import base_worktree, compare_discoveries
from fluxpush.discover import DiscoverOptions, Discovery, discover
from fluxpush.engine.lease import LEASE_SECONDS, ClusterLease
from fluxpush.engine.run import RunObserver, RunResult, run_nodes
from fluxpush.errors import SourceError, UsageError
from fluxpush.flux.model import ObjectRef
from fluxpush.kube import KubeClient, connect_eks, connect_kubeconfig
from fluxpush.kube.stop import StopSwitch
from fluxpush.live_lookups import live_variable_lookup, provider_secret_lookup
from fluxpush.planning.options import EngineOptions, PlanWay
from fluxpush.planning.plan import Action, NodePlan, ObjectChange, Plan
from fluxpush.planning.result import NodeResult, Outcome
from fluxpush.reconcilers import default_reconcilers
from fluxpush.render.postbuild import VariableSourceLookup
from fluxpush.report.notify import SecretLookup
from fluxpush.report.run_events import notify_run, run_url_from_env
from fluxpush.selection import find_listed
from fluxpush.sops.keysource import NO_KEYS, SopsKeys, run_keys

MODE_FOR_EVENT = {"push": "apply", "pull_request": "plan", "workflow_dispatch": "reconcile",
                  **dict.fromkeys(("schedule", "registry_package", "repository_dispatch"), "image-update")}
# Another run (a CLI user, a run outside the concurrency group) may hold the Lease; an abandoned one
# expires after LEASE_SECONDS, so waiting twice that always ends with the Lease or a clear error.
LEASE_WAIT_SECONDS = 2.0 * LEASE_SECONDS
WRITE_ACTIONS = (Action.CREATE, Action.UPDATE, Action.DELETE)


@dataclass(frozen=True, slots=True)
class NodeReport:
    """One node's plan (or applied changes) and its result in words."""

    plan: NodePlan
    result: str
    failed: bool


@dataclass(frozen=True, slots=True)
class ModeResult:
    """The outcome of one action run, whichever mode produced it."""

    mode: str  # plan | apply | reconcile
    against: str  # what the plan compares with: "the live cluster", "base abc123…", "the cluster"
    revision: str
    nodes: tuple[NodeReport, ...]
    discovery: Discovery
    dry_run: bool = False
    writes: int = 0
    interrupted: str = ""  # the signal's name when SIGTERM/SIGINT stopped the run

    @property
    def plan(self) -> Plan:
        """Every node's plan."""
        return Plan(tuple(node.plan for node in self.nodes))

    @property
    def ok(self) -> bool:
        """Whether nothing failed, nothing interrupted the run and the repository has no problems (a
        preview with changes is fine)."""
        return not (self.interrupted or self.discovery.problems or any(node.failed for node in self.nodes))

    @property
    def changed(self) -> bool:
        """Whether anything was, or would be, written."""
        return self.writes > 0 or self.plan.has_changes

    @property
    def applies(self) -> bool:
        """Whether this run wrote (or was allowed to write) to the cluster."""
        return self.mode != "plan" and not self.dry_run


def resolve_mode(config: ActionConfig, context: RunContext) -> str:
    """The mode to run: the `mode` input, or for `auto` the one the event implies.

    A pull request from a fork only ever gets a preview: anything else would deploy outside code.
    """
    mode = MODE_FOR_EVENT[context.event_name] if config.mode == "auto" else config.mode
    pull = context.pull_request
    if mode != "plan" and pull is not None and pull.is_fork:
        raise UsageError(f"input `mode`: {mode} is refused on a pull request from a fork (only plan is)")
    return mode


@contextmanager
def open_cluster(config: ActionConfig, workspace: Path,
                 stop: StopSwitch | None = None) -> Iterator[KubeClient]:
    """A client for the configured cluster: EKS, or a kubeconfig path or inline kubeconfig; once `stop`
    is thrown, it refuses new writes."""
    if config.eks_cluster_name:
        assert config.aws_region is not None  # read_config insists
        connection = connect_eks(config.eks_cluster_name, config.aws_region, role_arn=config.role_arn)
        with KubeClient(connection, stop=stop) as client:
            yield client
        return
    assert config.kubeconfig is not None
    if not is_inline_kubeconfig(config.kubeconfig):
        path = Path(config.kubeconfig)
        path = path if path.is_absolute() else workspace / path
        if not path.is_file():
            raise UsageError(f"input `kubeconfig`: {config.kubeconfig} is not a file (nor kubeconfig YAML)")
        with KubeClient(connect_kubeconfig(str(path)), stop=stop) as client:
            yield client
        return
    # The system temporary folder: inside a Docker action $RUNNER_TEMP names the host's folder, which
    # is not mounted in the container (actions/runner#1984).
    with tempfile.TemporaryDirectory(prefix="fluxpush-kube-") as scratch:
        path = Path(scratch) / "kubeconfig"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(config.kubeconfig)
        with KubeClient(connect_kubeconfig(str(path)), stop=stop) as client:
            yield client


def engine_options(config: ActionConfig, way: PlanWay, workspace: Path) -> EngineOptions:
    """EngineOptions from the inputs (`kubeconfig-for` paths are relative to the workspace)."""
    files = {}
    for ref, name in (config.kubeconfig_for or {}).items():
        path = Path(name) if Path(name).is_absolute() else workspace / name
        if not path.is_file():
            raise UsageError(f"input `kubeconfig-for`: {name} (for {ref}) is not a file")
        files[ref] = str(path)
    return EngineOptions(way=way, prune=config.prune, force=config.force, timeout=config.timeout,
                         kubeconfigs=files)


def _result_words(result: NodeResult, applying: bool) -> str:
    first = (result.message.splitlines() or [""])[0]
    if result.outcome is Outcome.READY:
        if applying:
            return f"✅ applied ({len(result.applied)} writes)" if result.applied else "✅ in sync"
        return "📝 changes" if result.plan.has_changes else "✅ no changes"
    words = {
        Outcome.FAILED: f"❌ {result.reason}: {first}",
        Outcome.BLOCKED: f"⛔ {first}",
        Outcome.SUSPENDED: "⏸️ suspended",
        Outcome.SKIPPED: f"⏭️ {first}",
        Outcome.INTERRUPTED: f"⏹️ {first}",
    }
    return words[result.outcome]


def from_run(run: RunResult, discovery: Discovery, mode: str, against: str, *, dry_run: bool) -> ModeResult:
    """A ModeResult from the engine's RunResult."""
    applying = mode != "plan" and not dry_run
    nodes = tuple(NodeReport(r.plan, _result_words(r, applying), not r.ok) for r in run.results)
    writes = sum(len(r.applied) for r in run.results)
    return ModeResult(mode, against, run.revision, nodes, discovery, dry_run, writes, run.interrupted)


def from_plan(plan: Plan, discovery: Discovery, against: str) -> ModeResult:
    """A ModeResult from an offline Plan."""
    nodes = []
    for node in plan.nodes:
        if node.error:
            words, failed = f"❌ BuildFailed: {node.error.splitlines()[0]}", True
        else:
            words, failed = ("📝 changes", False) if node.has_changes else ("✅ no changes", False)
        nodes.append(NodeReport(node, words, failed))
    return ModeResult("plan", against, discovery.revision, tuple(nodes), discovery)


def discover_checkout(root: Path, config: ActionConfig,
                      live_lookup: VariableSourceLookup | None = None) -> Discovery:
    """Discovery of a checkout from the cluster path (substituteFrom also from the cluster, if given).

    SOPS values are decrypted only with a cluster (the preview against it and the apply).
    """
    keys = NO_KEYS if live_lookup is None else \
        SopsKeys(run_keys(None, age_key=config.sops_age_key), live_lookup)
    return discover(root, DiscoverOptions(cluster_path=config.cluster_path, live_lookup=live_lookup,
                                          sops=keys, no_remote_bases=config.no_remote_bases,
                                          github_repository=os.environ.get("GITHUB_REPOSITORY", "")))


def _notify(run: RunResult, discovery: Discovery, secrets: SecretLookup) -> None:
    """Send the apply's events through the repository's Alerts; a failed delivery is a warning."""
    for delivery in notify_run(run, discovery, secrets, run_url=run_url_from_env()):
        if delivery.ok:
            print(f"notified {delivery.provider} ({delivery.provider_type}) of {delivery.involved_object}")
        else:
            print(f"::warning title=notification failed::{delivery.provider}: {delivery.error}")


def preview_offline(config: ActionConfig, context: RunContext, head: Discovery) -> ModeResult:
    """The PR's rendering against the base branch's, without a cluster."""
    pull = context.pull_request
    if pull is None or not pull.base_sha:
        raise UsageError(
            "an offline preview needs a pull_request event (its base commit); "
            "give `kubeconfig` or `eks-cluster-name` to plan against a cluster"
        )
    # The comparison renders HelmRelease charts from the base checkout, so it runs inside the worktree.
    with base_worktree(context.workspace, pull.base_sha) as base_root:
        try:
            base: Discovery | None = discover_checkout(base_root, config)
        except SourceError:
            base = None  # the cluster path is new in this pull request: everything is created
        plan = compare_discoveries(base, head)
    against = f"{pull.base_ref or 'base'} at {pull.base_sha[:12]} (offline: no cluster credentials)"
    return from_plan(plan, head, against)


def uses_live_cluster(config: ActionConfig, context: RunContext) -> bool:
    """Whether a preview reads the live cluster: credentials given and not a fork's pull request."""
    fork = context.pull_request is not None and context.pull_request.is_fork
    return config.has_cluster_credentials and not fork


class _LogStream(RunObserver):
    """Streams the run into the job log as it happens: a node's change count before its writes, its
    outcome when decided (names and counts only: repository text never reaches the log unescaped)."""

    def planned(self, ref: ObjectRef, changes: Sequence[ObjectChange]) -> None:
        writes = sum(1 for change in changes if change.action in WRITE_ACTIONS)
        if writes:
            print(f"fluxpush: {ref}: applying {writes} change(s)", flush=True)

    def finished(self, result: NodeResult) -> None:
        print(f"fluxpush: {result.node}: {result.outcome} ({len(result.applied)} writes)", flush=True)


def run_mode(mode: str, config: ActionConfig, context: RunContext,
             stop: StopSwitch | None = None) -> ModeResult:
    """Discover the checkout and run `mode` (plan, apply or reconcile); `stop` interrupts it."""
    pull = context.pull_request
    if mode != "plan" and pull is not None and pull.is_fork:
        raise UsageError(
            f"mode {mode} on a pull request from a fork is refused: it would deploy outside code"
        )
    if mode == "plan" and not uses_live_cluster(config, context):
        return preview_offline(config, context, discover_checkout(context.workspace, config))
    if not config.has_cluster_credentials:
        raise UsageError(f"mode {mode} needs a cluster: give `kubeconfig` or `eks-cluster-name`")
    apply = mode != "plan" and not config.dry_run
    way = PlanWay.READ_ONLY if mode == "plan" else PlanWay.SERVER  # a dry run may ask the server
    with open_cluster(config, context.workspace, stop) as client:
        head = discover_checkout(context.workspace, config, live_variable_lookup(client))
        options = engine_options(config, way, context.workspace)
        wanted = config.targets if mode == "reconcile" else ()
        targets = find_listed(head, wanted, "input `targets`") if wanted else None
        if apply:
            secrets = provider_secret_lookup(client)  # a malformed value stops the run before it writes
            with ClusterLease(client, wait_seconds=LEASE_WAIT_SECONDS) as lease:
                run = run_nodes(head, client, options, apply=True, reconcilers=default_reconcilers(),
                                targets=targets, observer=_LogStream())
            if lease.release_error is not None:
                first = str(lease.release_error).splitlines()[0]
                print(f"::warning title=fluxpush: Lease not released::{first}", flush=True)
            if not run.interrupted:
                _notify(run, head, secrets)
        else:
            run = run_nodes(head, client, options, apply=False, reconcilers=default_reconcilers(),
                            targets=targets, observer=_LogStream())
    return from_run(run, head, mode, "the live cluster", dry_run=config.dry_run)
