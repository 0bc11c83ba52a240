"""The CLI verbs that talk to a cluster: diff, plan, apply, reconcile, suspend, resume.

The cluster is an EKS cluster (`--eks-cluster NAME --region R [--role-arn ARN]`), a kubeconfig
(`--kubeconfig PATH --context NAME`, or `$KUBECONFIG`), or `--sandbox`: an embedded kubesim started
for the command (`--sandbox-state FILE` keeps its objects between commands).

Output is streamed: each node's changes are printed before they are written and its result as soon
as it is decided, line by line (flushed, for CI logs). SIGTERM/SIGINT stop new writes, let the run
record what it wrote and release the Lease, list what was and was not applied, and exit 143/130.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from fluxpush.cli_options import engine_options
from fluxpush.discover import Discovery
from fluxpush.engine import planfile
from fluxpush.engine.lease import ClusterLease
from fluxpush.engine.run import RunObserver, RunResult, Verdict, run_nodes
from fluxpush.errors import (
    EXIT_DIFF_CHANGES,
    EXIT_DIFF_FAILED,
    EXIT_FAILED,
    EXIT_OK,
    FluxpushError,
    UsageError,
)
from fluxpush.flux.model import ObjectRef
from fluxpush.kube import KubeClient, connect_eks, connect_kubeconfig, connect_sandbox
from fluxpush.kube.stop import StopSwitch, stop_on_signals
from fluxpush.live_lookups import live_variable_lookup, provider_secret_lookup
from fluxpush.planning.inventory import InventoryRecord
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.options import FIELD_MANAGER
from fluxpush.planning.plan import APPLIED_WORD, ObjectChange, change_lines, node_lines, totals_line
from fluxpush.planning.planner import read_inventory
from fluxpush.planning.result import NodeResult, Outcome
from fluxpush.planning.store import store_inventory
from fluxpush.reconcilers import default_reconcilers
from fluxpush.render.postbuild import VariableSourceLookup
from fluxpush.report.notify import Delivery
from fluxpush.report.run_events import notify_run, run_url_from_env
from fluxpush.selection import apply_order

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
def open_cluster(args: argparse.Namespace, stop: StopSwitch | None = None) -> Iterator[KubeClient]:
    """A client for the cluster the options name; starts (and stops) the sandbox when asked. `stop`,
    when thrown, makes the client refuse new writes."""
    if args.sandbox:
        from kubesim import KubeSim, Options  # the sandbox is optional at run time

        sim = KubeSim(Options(cluster_name="sandbox"))
        if args.sandbox_state and args.sandbox_state.exists():
            sim.cluster.store.load(args.sandbox_state)
        with sim, KubeClient(connect_sandbox(sim), stop=stop) as client:
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
    with KubeClient(connection, stop=stop) as client:
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


class StreamPrinter(RunObserver):
    """Prints the run as it happens: each node's changes before they are written, its result as soon
    as it is decided (`-o json` prints nothing here); on a terminal, each node's start on stderr."""

    def __init__(self, *, text: bool, applying: bool) -> None:
        self.text = text
        self.applying = applying
        self.color = sys.stdout.isatty()
        self.live = sys.stderr.isatty() and not os.environ.get("CI")
        self._lock = threading.Lock()  # one node's lines stay together
        # A plan (nothing written) prints its nodes in apply order, each as soon as those before it
        # are decided; an apply prints each node when it happens, since its writes do.
        self._order: list[ObjectRef] = []
        self._held: dict[ObjectRef, list[str]] = {}
        self._printed = 0

    def in_order(self, order: Sequence[ObjectRef]) -> None:
        """Print plans in this order (the selected nodes in apply order)."""
        self._order = list(order)

    def _print_in_order(self, ref: ObjectRef, lines: Sequence[str]) -> None:
        with self._lock:
            if ref not in self._order:
                print("\n".join(lines), flush=True)
                return
            self._held[ref] = list(lines)
            while self._printed < len(self._order) and self._order[self._printed] in self._held:
                print("\n".join(self._held.pop(self._order[self._printed])), flush=True)
                self._printed += 1

    def flush(self) -> None:
        """Print plans still held (an interrupted run decides no more nodes), in apply order."""
        with self._lock:
            for ref in self._order[self._printed:]:
                if ref in self._held:
                    print("\n".join(self._held.pop(ref)), flush=True)
            self._printed = len(self._order)

    def _print(self, lines: Sequence[str], stream: TextIO | None = None) -> None:
        with self._lock:
            print("\n".join(lines), file=stream or sys.stdout, flush=True)

    def started(self, ref: ObjectRef, applying: bool) -> None:
        if self.live:
            self._print([f"◎ {ref} {'applying' if applying else 'planning'}"], sys.stderr)

    def planned(self, ref: ObjectRef, changes: Sequence[ObjectChange]) -> None:
        lines = change_lines(changes, self.color)
        if self.text and lines:
            self._print([f"📁 {ref} applying:", *lines])

    def finished(self, result: NodeResult) -> None:
        if not self.text:
            return
        if self.applying:
            self._print(_result_lines(result))
        else:
            self._print_in_order(result.node, node_lines(result.plan, self.color))


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


def _interruption_lines(run: RunResult, released: bool) -> list[str]:
    """What an interrupted run applied and what it did not."""
    applied = [f"  applied: {r.node} ({len(r.applied)} writes)" for r in run.results if r.applied]
    not_applied = [f"  not applied: {r.node} ({r.outcome}: {(r.message.splitlines() or [''])[0]})"
                   for r in run.results if not r.applied and r.outcome is not Outcome.READY]
    lease = "the Lease was released" if released else "the Lease could not be released (see above)"
    return [f"✗ interrupted by {run.interrupted}: no write was started after the signal; "
            f"inventories record what was written; {lease}",
            *(applied or ["  applied: nothing"]), *not_applied,
            "  run the same command again to converge"]


def print_run(run: RunResult, released: bool = True) -> None:
    """The run's totals (each node's changes and result were streamed), and what an interruption left."""
    print(totals_line(run.plan, sys.stdout.isatty()))
    failed = sum(1 for r in run.results if not r.ok)
    print(
        f"{'✔' if not failed else '✗'} {len(run.results)} nodes, {failed} not ready, "
        f"{run.requests} API requests in {run.duration:.1f}s at {run.revision}"
    )
    if run.interrupted:
        print("\n".join(_interruption_lines(run, released)), flush=True)


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


def cmd_plan(args: argparse.Namespace, discover: Discover, select: Select, *, diff_exit: bool) -> int:
    """`diff` and `plan` (and `--dry-run`): what an apply of the selected nodes would do; nothing is
    written. Each node's plan is printed as soon as it is decided; SIGTERM/SIGINT stop starting nodes
    and exit 143/130."""
    text = args.output != "json"
    plan_file = getattr(args, "plan_file", None)
    executable = args.verb == "plan" and plan_file  # `reconcile --dry-run --plan-file` writes the JSON
    options = engine_options(args)
    printer = StreamPrinter(text=text, applying=False)
    with stop_on_signals(StopSwitch()) as switch, open_cluster(args, switch) as client:
        discovery = _discover_live(discover, client)
        snapshot = planfile.read_snapshot(client, discovery) if executable else None  # before planning
        targets = select(discovery)
        printer.in_order([ref for ref in apply_order(discovery) if targets is None or ref in targets])
        run = run_nodes(discovery, client, options, apply=False, reconcilers=default_reconcilers(),
                        targets=targets, observer=printer)
    printer.flush()
    if snapshot is not None and plan_file and not run.interrupted:  # an incomplete plan is not executable
        document = planfile.dumps(planfile.make_plan_file(run.plan, discovery, snapshot, options))
        planfile.write_atomically(plan_file, document)
    elif not executable:
        _write_plan(run, plan_file)
    if text:
        print(totals_line(run.plan, sys.stdout.isatty()))
    else:
        sys.stdout.write(run.plan.to_json() + "\n")
    if run.interrupted:
        print(f"✗ interrupted by {run.interrupted}: the plan is incomplete", file=sys.stderr)
        return switch.exit_code
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
    executing = args.verb == "apply" and args.plan_file
    if args.dry_run and executing:
        raise UsageError("--dry-run with --plan-file: the plan file is the dry run; apply it, or plan again")
    if args.dry_run:
        return cmd_plan(args, discover, select, diff_exit=False)
    planned = _load_plan_file(args.plan_file) if executing else None
    text = args.output != "json"
    with stop_on_signals(StopSwitch()) as switch:
        try:
            run, deliveries, released, execution = _apply(args, discover, select, switch,
                                                          StreamPrinter(text=text, applying=True), planned)
        except FluxpushError as exc:
            if not switch.stopped:
                raise
            print(f"✗ interrupted by {switch.signal_name}: {exc}", file=sys.stderr)
            return switch.exit_code
    if execution is not None and planned is not None:
        _report_execution(planned, execution, run, not text)
    else:
        _write_plan(run, getattr(args, "plan_file", None))
    if text:
        print_run(run, released)
    else:
        sys.stdout.write(run.plan.to_json() + "\n")
    _print_deliveries(deliveries)
    if run.interrupted:
        return switch.exit_code
    return EXIT_CODES["apply"][run.verdict] if released else EXIT_FAILED


def _apply(args: argparse.Namespace, discover: Discover,
           select: Select,
           switch: StopSwitch, observer: RunObserver, planned: planfile.PlanFile | None,
           ) -> tuple[RunResult, list[Delivery], bool, planfile.Execution | None]:
    """Discover, take the Lease, (check the plan file,) apply, release it; then notify (not after an
    interruption). Returns the run, the notifications sent, whether the Lease was released and the
    plan file's execution."""
    with open_cluster(args, switch) as client:
        discovery = _discover_live(discover, client)
        targets = select(discovery)
        secrets = provider_secret_lookup(client) if args.notify else None  # a bad value stops us here
        execution = None
        with ClusterLease(client, wait_seconds=args.lock_wait) as lease:
            if planned is not None:  # checked under the Lease, so no other run moves the cluster meanwhile
                now = planfile.read_snapshot(client, discovery)
                execution = planfile.verify(planned, discovery, now, engine_options(args))
                discovery = execution.discovery
            run = run_nodes(discovery, client, engine_options(args), apply=True,
                            reconcilers=default_reconcilers(), targets=targets, observer=observer)
        released = lease.release_error is None
        if not released:
            print(f"✗ {lease.release_error}", file=sys.stderr)
        if not secrets or run.interrupted:
            return run, [], released, execution
        return run, notify_run(run, discovery, secrets, run_url=run_url_from_env()), released, execution


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
