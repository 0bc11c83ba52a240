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
from fluxpush.engine import planfile
from fluxpush.engine.inventory import InventoryRecord
from fluxpush.engine.lease import ClusterLease
from fluxpush.engine.live import LiveIndex
from fluxpush.engine.plan import Action, render_text
from fluxpush.engine.planner import read_inventory
from fluxpush.engine.reconcile import NodeResult, Outcome, store_inventory
from fluxpush.engine.run import Progress, RunResult, Verdict, run_nodes
from fluxpush.errors import UsageError
from fluxpush.flux.model import ObjectRef
from fluxpush.kube import KubeClient, connect_eks, connect_kubeconfig, connect_sandbox
from fluxpush.live_lookups import live_variable_lookup, provider_secret_lookup
from fluxpush.render.postbuild import VariableSourceLookup
from fluxpush.report.notify import Delivery
from fluxpush.report.run_events import notify_run, run_url_from_env

# Discovery of the repository, given where to look up substituteFrom sources the repository lacks.
Discover = Callable[[VariableSourceLookup | None], Discovery]

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2
# The exit code of each verb for the run's verdict (decided by RunResult.verdict): `diff` as
# `flux diff` (1 changes, 2 failure), `plan`, `apply` and `reconcile` 1 on failure only.
EXIT_CODES = {
    "diff": {Verdict.IN_SYNC: EXIT_OK, Verdict.CHANGES: EXIT_CHANGES, Verdict.FAILED: EXIT_ERROR},
    "plan": {Verdict.IN_SYNC: EXIT_OK, Verdict.CHANGES: EXIT_OK, Verdict.FAILED: EXIT_CHANGES},
    "apply": {Verdict.IN_SYNC: EXIT_OK, Verdict.CHANGES: EXIT_OK, Verdict.FAILED: EXIT_CHANGES},
}
APPLIED_WORD = {Action.CREATE: "created", Action.UPDATE: "configured", Action.DELETE: "deleted"}


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


def _targets(discovery: Discovery, kind: str, name: str, with_dependencies: bool) -> list[ObjectRef]:
    found = [ref for ref in discovery.nodes if ref.kind == kind and ref.name == name]
    if not found:
        names = ", ".join(sorted(r.name for r in discovery.nodes if r.kind == kind))
        raise UsageError(f"{kind} {name!r} not found; the repository has: {names}")
    if not with_dependencies:
        return found
    wanted, queue = set(found), list(found)
    while queue:
        for dep in discovery.nodes[queue.pop()].depends_on:
            if dep in discovery.nodes and dep not in wanted:
                wanted.add(dep)
                queue.append(dep)
    return sorted(wanted)


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


def _load_plan_file(path: str) -> planfile.PlanFile:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise planfile.PlanFileError(f"cannot read the plan file {path}: {exc}") from exc
    return planfile.loads(text, path)


def _report_execution(planned: planfile.PlanFile, execution: planfile.Execution, run: RunResult,
                      json_output: bool) -> None:
    """What `apply --plan-file` applied differently from the plan: the checkout that moved, each
    object that changed in the cluster since the plan (re-planned before its write), and each object
    whose action at apply differs from the planned one."""
    out = sys.stderr if json_output else sys.stdout
    for note in execution.notes:
        print(f"ℹ {note}", file=out)
    actions = planfile.diverged(planned.plan, run.plan)
    if not execution.moved and not actions:
        print("✔ applied as planned: no planned object changed in the cluster since the plan", file=out)
        return
    if execution.moved:
        print(f"⚠ {len(execution.moved)} planned object(s) changed in the cluster since the plan; each was "
              "re-planned against the live object before writing:", file=out)
    for oid, how in sorted(execution.moved.items()):
        print(f"  ► {oid} {how}: re-planned, {actions.pop(oid, 'as planned')}", file=out)
    for oid, how in sorted(actions.items()):
        print(f"⚠ {oid} was applied differently from the plan ({how}): re-planned at apply", file=out)


def _discover_live(discover: Discover, client: KubeClient) -> Discovery:
    discovery = discover(live_variable_lookup(client))
    for notice in discovery.notices:
        print(f"ℹ {notice}", file=sys.stderr)
    for problem in discovery.problems:
        print(f"✗ {problem}", file=sys.stderr)
    return discovery


def cmd_plan(args: argparse.Namespace, discover: Discover, *, diff_exit: bool) -> int:
    """`diff` and `plan`: what an apply would do; nothing is written."""
    plan_file = getattr(args, "plan_file", None)
    options = engine_options(args)
    with open_cluster(args) as client:
        discovery = _discover_live(discover, client)
        snapshot = planfile.read_snapshot(client, discovery) if plan_file else None  # read before planning
        run = run_nodes(discovery, client, options, apply=False, progress=progress_printer())
    if plan_file and snapshot is not None:
        document = planfile.dumps(planfile.make_plan_file(run.plan, discovery, snapshot, options))
        planfile.write_atomically(plan_file, document)
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


def cmd_apply(args: argparse.Namespace, discover: Discover,
              select: Callable[[Discovery], list[ObjectRef]] | None = None) -> int:
    """`apply` and `reconcile`: converge the cluster holding its Lease, then notify the Alerts' Providers."""
    executing = args.verb == "apply" and args.plan_file
    if args.dry_run and executing:
        raise UsageError("--dry-run with --plan-file: the plan file is the dry run; apply it, or plan again")
    if args.dry_run:
        return cmd_plan(args, discover, diff_exit=False)
    planned = _load_plan_file(args.plan_file) if executing else None
    with open_cluster(args) as client:
        discovery = _discover_live(discover, client)
        targets = select(discovery) if select else None
        secrets = provider_secret_lookup(client) if args.notify else None  # a bad value stops us here
        with ClusterLease(client, wait_seconds=args.lock_wait):
            execution = None
            if planned is not None:  # checked under the Lease, so no other run moves the cluster meanwhile
                now = planfile.read_snapshot(client, discovery)
                execution = planfile.verify(planned, discovery, now, engine_options(args))
                discovery = execution.discovery
            run = run_nodes(discovery, client, engine_options(args), apply=True, targets=targets,
                            progress=progress_printer())
        deliveries = notify_run(run, discovery, secrets, run_url=run_url_from_env()) if secrets else []
    if execution is not None and planned is not None:
        _report_execution(planned, execution, run, args.output == "json")
    else:
        _write_plan(run, getattr(args, "plan_file", None))
    if args.output == "json":
        sys.stdout.write(run.plan.to_json() + "\n")
    else:
        print_run(run, color=sys.stdout.isatty())
    _print_deliveries(deliveries)
    return EXIT_CODES["apply"][run.verdict]


def cmd_reconcile(args: argparse.Namespace, discover: Discover, kind: str) -> int:
    """`reconcile ks NAME`: apply one node (and, with --with-dependencies, what it depends on)."""
    return cmd_apply(args, discover, lambda d: _targets(d, kind, args.name, args.with_dependencies))


def cmd_suspend(args: argparse.Namespace, discover: Discover, kind: str, suspended: bool) -> int:
    """`suspend`/`resume ks NAME`: set the flag in the node's stored inventory."""
    (ref,) = _targets(discover(None), kind, args.name, False)
    with open_cluster(args) as client:
        record = read_inventory(LiveIndex(client), ref) or InventoryRecord(node=ref)
        store_inventory(client, replace(record, suspended=suspended), engine_options(args).field_manager)
    print(f"✔ {ref} {'suspended' if suspended else 'resumed'}")
    return EXIT_OK
