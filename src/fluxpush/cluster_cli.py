"""The CLI verbs that talk to a cluster: diff, plan, apply, reconcile, suspend, resume.

The cluster is an EKS cluster (`--eks-cluster NAME --region R [--role-arn ARN]`), a kubeconfig
(`--kubeconfig PATH --context NAME`, or `$KUBECONFIG`), or `--sandbox`: an embedded kubesim started
for the command (`--sandbox-state FILE` keeps its objects between commands).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from fluxpush.cli_options import engine_options
from fluxpush.discover import Discovery
from fluxpush.engine.inventory import InventoryRecord
from fluxpush.engine.lease import ClusterLease
from fluxpush.engine.live import LiveIndex
from fluxpush.engine.options import FIELD_MANAGER
from fluxpush.engine.plan import APPLIED_WORD, render_text
from fluxpush.engine.planner import read_inventory
from fluxpush.engine.reconcile import NodeResult, Outcome, store_inventory
from fluxpush.engine.run import Progress, RunResult, Verdict, run_nodes
from fluxpush.errors import EXIT_DIFF_CHANGES, EXIT_DIFF_FAILED, EXIT_FAILED, EXIT_OK, UsageError
from fluxpush.flux.model import ObjectRef
from fluxpush.kube import KubeClient, connect_eks, connect_kubeconfig, connect_sandbox
from fluxpush.live_lookups import live_variable_lookup, provider_secret_lookup
from fluxpush.render.postbuild import VariableSourceLookup
from fluxpush.report.notify import Delivery
from fluxpush.report.run_events import notify_run, run_url_from_env

# Discovery of the repository, given where to look up substituteFrom sources the repository lacks.
Discover = Callable[[VariableSourceLookup | None], Discovery]
# The nodes the command line names (None: every node).
Select = Callable[[Discovery], list[ObjectRef] | None]

# The exit code of each verb for the run's verdict (decided by RunResult.verdict): `diff` as
# `flux diff` (1 changes, 2 failure), `plan`, `apply` and `reconcile` 1 on failure only.
EXIT_CODES = {
    "diff": {Verdict.IN_SYNC: EXIT_OK, Verdict.CHANGES: EXIT_DIFF_CHANGES, Verdict.FAILED: EXIT_DIFF_FAILED},
    "plan": {Verdict.IN_SYNC: EXIT_OK, Verdict.CHANGES: EXIT_OK, Verdict.FAILED: EXIT_FAILED},
    "apply": {Verdict.IN_SYNC: EXIT_OK, Verdict.CHANGES: EXIT_OK, Verdict.FAILED: EXIT_FAILED},
}


@contextmanager
def open_cluster(args: argparse.Namespace) -> Iterator[KubeClient]:
    """A client for the cluster the options name; starts (and stops) the sandbox when asked."""
    if args.sandbox:
        from kubesim import KubeSim, Options  # the sandbox is optional at run time

        sim = KubeSim(Options(cluster_name="sandbox"))
        if args.sandbox_state and args.sandbox_state.exists():
            sim.cluster.store.load(args.sandbox_state)
        with sim, KubeClient(connect_sandbox(sim)) as client:
            yield client
            if args.sandbox_state:
                sim.cluster.store.save(args.sandbox_state)
        return
    if args.eks_cluster:
        region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not region:
            raise UsageError("--region (or $AWS_REGION) is required with --eks-cluster")
        connection = connect_eks(args.eks_cluster, region, role_arn=args.role_arn)
    else:
        connection = connect_kubeconfig(args.kubeconfig, args.context)
    with KubeClient(connection) as client:
        yield client


def live_status(args: argparse.Namespace, discovery: Discovery) -> dict[ObjectRef, dict[str, object]]:
    """Each Kustomization's stored status in the cluster (Ready, reason, revisions, suspend)."""
    status: dict[ObjectRef, dict[str, object]] = {}
    with open_cluster(args) as client:
        index = LiveIndex(client)
        for ref in discovery.nodes:
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


def _progress(ref: ObjectRef, phase: str) -> None:
    print(f"◎ {ref} {phase}", file=sys.stderr, flush=True)


def progress_printer() -> Progress | None:
    """Live per-node progress on a terminal; nothing in CI logs, which get the results only."""
    return _progress if sys.stderr.isatty() and not os.environ.get("CI") else None


def _result_lines(result: NodeResult) -> list[str]:
    mark = "✔" if result.ok else "✗"
    counts = {
        word: sum(1 for c in result.applied if APPLIED_WORD.get(c.action) == word)
        for word in APPLIED_WORD.values()
    }
    summary = ", ".join(f"{n} {word}" for word, n in counts.items() if n) or "no changes"
    first, *rest = result.message.splitlines() or [""]
    lines = [f"{mark} {result.node} {result.outcome}: {summary} in {result.duration:.1f}s"]
    if result.outcome is not Outcome.READY:
        lines.append(f"  {result.reason}: {first}")
        lines += [f"  {line}" for line in rest]
    lines += [f"  {change.id} {APPLIED_WORD[change.action]}" for change in result.applied]
    return lines


def print_run(run: RunResult, *, color: bool) -> None:
    """The changes with their diffs, then one result block per node and the run's totals."""
    sys.stdout.write(render_text(run.plan, color))
    for result in run.results:
        print("\n".join(_result_lines(result)))
    failed = sum(1 for r in run.results if not r.ok)
    print(
        f"{'✔' if not failed else '✗'} {len(run.results)} nodes, {failed} not ready, "
        f"{run.requests} API requests in {run.duration:.1f}s at {run.revision}"
    )


def _write_plan(run: RunResult, path: str | None) -> None:
    if path:
        Path(path).write_text(run.plan.to_json() + "\n")


def _discover_live(discover: Discover, client: KubeClient) -> Discovery:
    discovery = discover(live_variable_lookup(client))
    for notice in discovery.notices:
        print(f"ℹ {notice}", file=sys.stderr)
    for problem in discovery.problems:
        print(f"✗ {problem}", file=sys.stderr)
    return discovery


def cmd_plan(args: argparse.Namespace, discover: Discover, select: Select, *, diff_exit: bool) -> int:
    """`diff` and `plan` (and `--dry-run`): what an apply of the selected nodes would do; writes nothing."""
    with open_cluster(args) as client:
        discovery = _discover_live(discover, client)
        run = run_nodes(discovery, client, engine_options(args), apply=False, targets=select(discovery),
                        progress=progress_printer())
    _write_plan(run, getattr(args, "plan_file", None))
    if args.output == "json":
        sys.stdout.write(run.plan.to_json() + "\n")
    else:
        sys.stdout.write(render_text(run.plan, sys.stdout.isatty()))
    return EXIT_CODES["diff" if diff_exit else "plan"][run.verdict]


def _print_deliveries(deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        if delivery.ok:
            print(f"✉ {delivery.involved_object} → {delivery.provider} ({delivery.provider_type})")
        else:
            print(f"✗ notification for {delivery.involved_object} via {delivery.provider} failed: "
                  f"{delivery.error}", file=sys.stderr)


def cmd_apply(args: argparse.Namespace, discover: Discover, select: Select) -> int:
    """`apply` and `reconcile`: converge the cluster holding its Lease, then notify the Alerts' Providers."""
    if args.dry_run:
        return cmd_plan(args, discover, select, diff_exit=False)
    with open_cluster(args) as client:
        discovery = _discover_live(discover, client)
        targets = select(discovery)
        secrets = provider_secret_lookup(client) if args.notify else None  # a bad value stops us here
        with ClusterLease(client, wait_seconds=args.lock_wait):
            run = run_nodes(discovery, client, engine_options(args), apply=True, targets=targets,
                            progress=progress_printer())
        deliveries = notify_run(run, discovery, secrets, run_url=run_url_from_env()) if secrets else []
    _write_plan(run, getattr(args, "plan_file", None))
    if args.output == "json":
        sys.stdout.write(run.plan.to_json() + "\n")
    else:
        print_run(run, color=sys.stdout.isatty())
    _print_deliveries(deliveries)
    return EXIT_CODES["apply"][run.verdict]


def cmd_suspend(args: argparse.Namespace, discover: Discover, select: Select, suspended: bool) -> int:
    """`suspend`/`resume ks NAME`: set the flag in the node's stored inventory."""
    refs = select(discover(None))
    if not refs:
        raise UsageError(f"{args.verb} needs KIND NAME, e.g. fluxpush {args.verb} ks NAME")
    ref = refs[0]
    with open_cluster(args) as client:
        record = read_inventory(LiveIndex(client), ref) or InventoryRecord(node=ref)
        store_inventory(client, replace(record, suspended=suspended), FIELD_MANAGER)
    print(f"✔ {ref} {'suspended' if suspended else 'resumed'}")
    return EXIT_OK
