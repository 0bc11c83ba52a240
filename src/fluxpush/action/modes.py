"""What the action does per mode: its inputs turned into the composition root's requests
(`fluxpush.app`), its results into plain values for reporting.

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

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fluxpush.action.config import ActionConfig, is_inline_kubeconfig
from fluxpush.action.events import RunContext
from fluxpush.action.offline import base_worktree, compare_discoveries
from fluxpush.app import usecases
from fluxpush.app.request import (
    CheckoutRequest,
    ClusterTarget,
    Eks,
    InlineKubeconfig,
    Kubeconfig,
    RunSettings,
    discover_checkout,
)
from fluxpush.app.request import engine_options as build_engine_options
from fluxpush.app.selection import EVERY_NODE, NodeSelection
from fluxpush.engine.lease import LEASE_SECONDS
from fluxpush.engine.run import RunResult
from fluxpush.errors import SourceError, UsageError
from fluxpush.flux.model import ObjectRef
from fluxpush.kube.stop import StopSwitch
from fluxpush.planning.options import EngineOptions, PlanWay
from fluxpush.planning.plan import Action, NodePlan, ObjectChange, Plan
from fluxpush.planning.result import NodeResult, Outcome
from fluxpush.report.notify import Delivery
from fluxpush.report.workflow import WorkflowCommands
from fluxpush.repository.discover import Discovery

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


def cluster_target(config: ActionConfig, workspace: Path) -> ClusterTarget:
    """The configured cluster: EKS, or a kubeconfig path (relative to the workspace) or inline
    kubeconfig."""
    if config.eks_cluster_name:
        assert config.aws_region is not None  # read_config insists
        return Eks(config.eks_cluster_name, config.aws_region, config.role_arn)
    assert config.kubeconfig is not None
    if is_inline_kubeconfig(config.kubeconfig):
        return InlineKubeconfig(config.kubeconfig)
    path = workspace / config.kubeconfig  # an absolute path stays itself
    if not path.is_file():
        raise UsageError(f"input `kubeconfig`: {config.kubeconfig} is not a file (nor kubeconfig YAML)")
    return Kubeconfig(str(path))


def engine_options(config: ActionConfig, way: PlanWay, workspace: Path) -> EngineOptions:
    """EngineOptions from the inputs (`kubeconfig-for` paths are relative to the workspace)."""
    return build_engine_options(way=way, prune=config.prune, force=config.force, timeout=config.timeout,
                                kubeconfig_for=config.kubeconfig_for, base=workspace,
                                named="input `kubeconfig-for`")


def checkout_request(config: ActionConfig, root: Path) -> CheckoutRequest:
    """The checkout at `root` (the workspace, or the base branch's worktree) and the inputs' settings."""
    return CheckoutRequest(root=root, cluster_path=config.cluster_path,
                           no_remote_bases=config.no_remote_bases, age_key=config.sops_age_key)


def node_selection(config: ActionConfig, mode: str) -> NodeSelection:
    """The `targets` input of a reconcile; every node otherwise."""
    if mode != "reconcile" or not config.targets:
        return EVERY_NODE
    return NodeSelection(listed=config.targets, listed_as="input `targets`")


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


def report_deliveries(deliveries: Sequence[Delivery], commands: WorkflowCommands) -> None:
    """Each notification sent; a failed delivery is a warning (the deploy itself succeeded)."""
    for delivery in deliveries:
        if delivery.ok:
            print(f"notified {delivery.provider} ({delivery.provider_type}) of {delivery.involved_object}")
        else:
            commands.warning(f"{delivery.provider}: {delivery.error}", title="notification failed")


def preview_offline(config: ActionConfig, context: RunContext, settings: RunSettings) -> ModeResult:
    """The PR's rendering against the base branch's, without a cluster."""
    pull = context.pull_request
    if pull is None or not pull.base_sha:
        raise UsageError(
            "an offline preview needs a pull_request event (its base commit); "
            "give `kubeconfig` or `eks-cluster-name` to plan against a cluster"
        )
    head = discover_checkout(checkout_request(config, context.workspace), settings)
    # The comparison renders HelmRelease charts from the base checkout, so it runs inside the worktree.
    with base_worktree(context.workspace, pull.base_sha) as base_root:
        try:
            base: Discovery | None = discover_checkout(checkout_request(config, base_root), settings)
        except SourceError:
            base = None  # the cluster path is new in this pull request: everything is created
        plan = compare_discoveries(base, head)
    against = f"{pull.base_ref or 'base'} at {pull.base_sha[:12]} (offline: no cluster credentials)"
    return from_plan(plan, head, against)


def uses_live_cluster(config: ActionConfig, context: RunContext) -> bool:
    """Whether a preview reads the live cluster: credentials given and not a fork's pull request."""
    fork = context.pull_request is not None and context.pull_request.is_fork
    return config.has_cluster_credentials and not fork


class _LogStream(usecases.RunHooks):
    """Streams the run into the job log as it happens: a node's change count before its writes, its
    outcome when decided (names and counts only: repository text never reaches the log unescaped)."""

    def planned(self, ref: ObjectRef, changes: Sequence[ObjectChange]) -> None:
        writes = sum(1 for change in changes if change.action in WRITE_ACTIONS)
        if writes:
            print(f"fluxpush: {ref}: applying {writes} change(s)", flush=True)

    def finished(self, result: NodeResult) -> None:
        print(f"fluxpush: {result.node}: {result.outcome} ({len(result.applied)} writes)", flush=True)


def run_request(mode: str, config: ActionConfig, context: RunContext, settings: RunSettings,
                stop: StopSwitch | None) -> usecases.RunRequest:
    """The composition root's request for these inputs (a preview plans the read-only way)."""
    way = PlanWay.READ_ONLY if mode == "plan" else PlanWay.SERVER  # a dry run may ask the server
    return usecases.RunRequest(
        target=cluster_target(config, context.workspace),
        checkout=checkout_request(config, context.workspace),
        options=engine_options(config, way, context.workspace),
        settings=settings,
        selection=node_selection(config, mode),
        hooks=_LogStream(),
        stop=stop,
    )


def run_mode(mode: str, config: ActionConfig, context: RunContext, settings: RunSettings,
             commands: WorkflowCommands, stop: StopSwitch | None = None) -> ModeResult:
    """Run `mode` (plan, apply or reconcile, as `resolve_mode` allowed it); `stop` interrupts it."""
    if mode == "plan" and not uses_live_cluster(config, context):
        return preview_offline(config, context, settings)
    if not config.has_cluster_credentials:
        raise UsageError(f"mode {mode} needs a cluster: give `kubeconfig` or `eks-cluster-name`")
    request = run_request(mode, config, context, settings, stop)
    if mode == "plan" or config.dry_run:
        preview = usecases.preview(request)
        return from_run(preview.run, preview.discovery, mode, "the live cluster", dry_run=config.dry_run)
    done = usecases.deploy(request, lease_wait=LEASE_WAIT_SECONDS)
    if done.release_error is not None:
        first = str(done.release_error).splitlines()[0]
        commands.warning(first, title="fluxpush: Lease not released")
    report_deliveries(done.deliveries, commands)
    return from_run(done.run, done.discovery, mode, "the live cluster", dry_run=config.dry_run)
