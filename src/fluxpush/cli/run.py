"""`diff`, `plan`, `apply`, `reconcile`: the verbs that run against a cluster.

The cluster is an EKS cluster (`--eks-cluster NAME --region R [--role-arn ARN]`), a kubeconfig
(`--kubeconfig PATH --context NAME`, or `$KUBECONFIG`), or `--sandbox`: an embedded kubesim started
for the command (`--sandbox-state FILE` keeps its objects between commands).

Output is streamed (`stream`). SIGTERM/SIGINT stop new writes, let the run record what it wrote and
release the Lease, list what was and was not applied, and exit 143/130.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fluxpush.app import usecases
from fluxpush.app.request import RunSettings
from fluxpush.cli.options import checkout_request, cluster_target, engine_options, node_selection
from fluxpush.cli.stream import StreamPrinter, print_deliveries, print_run, print_totals
from fluxpush.engine import planfile
from fluxpush.engine.run import RunResult, Verdict
from fluxpush.errors import (
    EXIT_DIFF_CHANGES,
    EXIT_DIFF_FAILED,
    EXIT_FAILED,
    EXIT_OK,
    FluxpushError,
    UsageError,
)
from fluxpush.kube.stop import StopSwitch, stop_on_signals

# The exit code of each verb for the run's verdict (decided by RunResult.verdict): `diff` as
# `flux diff` (1 changes, 2 failure), `plan`, `apply` and `reconcile` 1 on failure only.
EXIT_CODES = {
    "diff": {Verdict.IN_SYNC: EXIT_OK, Verdict.CHANGES: EXIT_DIFF_CHANGES, Verdict.FAILED: EXIT_DIFF_FAILED},
    "plan": {Verdict.IN_SYNC: EXIT_OK, Verdict.CHANGES: EXIT_OK, Verdict.FAILED: EXIT_FAILED},
    "apply": {Verdict.IN_SYNC: EXIT_OK, Verdict.CHANGES: EXIT_OK, Verdict.FAILED: EXIT_FAILED},
}


def run_request(args: argparse.Namespace, settings: RunSettings, printer: StreamPrinter,
                stop: StopSwitch | None) -> usecases.RunRequest:
    """The composition root's request for this command line."""
    return usecases.RunRequest(
        target=cluster_target(args, settings.environ),
        checkout=checkout_request(args, settings.environ),
        options=engine_options(args),
        settings=settings,
        selection=node_selection(args),
        hooks=printer,
        stop=stop,
    )


def _write_output(option: str, path: str, text: str) -> None:
    """Write an output file an option names; a failed write is one line naming the option and path."""
    try:
        planfile.write_atomically(path, text)
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write: {exc.strerror or exc}") from exc


def _write_json(run: RunResult, path: str | None) -> None:
    """`--json-file FILE`: the run's plan (with --dry-run) or applied changes as JSON."""
    if path:
        _write_output("--json-file", path, run.plan.to_json() + "\n")


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


def plan(args: argparse.Namespace, settings: RunSettings, *, diff_exit: bool) -> int:
    """`diff` and `plan` (and `--dry-run`): what an apply of the selected nodes would do; nothing is
    written. Each node's plan is printed as soon as it is decided; SIGTERM/SIGINT stop starting nodes
    and exit 143/130."""
    text = args.output != "json"
    plan_file = args.plan_file if args.verb == "plan" else None  # the executable plan file
    printer = StreamPrinter(text=text, applying=False)
    with stop_on_signals(StopSwitch()) as switch:
        preview = usecases.preview(run_request(args, settings, printer, switch), executable=bool(plan_file))
    printer.flush()
    run = preview.run
    if text:
        print_totals(run)
    else:
        sys.stdout.write(run.plan.to_json() + "\n")
    if preview.plan_file is not None and plan_file:
        _write_output("--plan-file", plan_file, planfile.dumps(preview.plan_file))
    _write_json(run, getattr(args, "json_file", None))
    if run.interrupted:
        print(f"✗ interrupted by {run.interrupted}: the plan is incomplete", file=sys.stderr)
        return switch.exit_code
    return EXIT_CODES["diff" if diff_exit else "plan"][run.verdict]


def apply(args: argparse.Namespace, settings: RunSettings) -> int:
    """`apply` and `reconcile`: converge the cluster holding its Lease, then notify the Alerts' Providers."""
    executing = getattr(args, "plan_file", None)
    if args.dry_run and executing:
        raise UsageError("--dry-run with --plan-file: the plan file is the dry run; apply it, or plan again")
    if args.dry_run:
        return plan(args, settings, diff_exit=False)
    planned = _load_plan_file(args.plan_file) if executing else None
    text = args.output != "json"
    with stop_on_signals(StopSwitch()) as switch:
        request = run_request(args, settings, StreamPrinter(text=text, applying=True), switch)
        try:
            done = usecases.deploy(request, lease_wait=args.lock_wait, notify=args.notify, planned=planned)
        except FluxpushError as exc:
            if not switch.stopped:
                raise
            print(f"✗ interrupted by {switch.signal_name}: {exc}", file=sys.stderr)
            return switch.exit_code
    run, released = done.run, done.release_error is None
    if not released:
        print(f"✗ {done.release_error}", file=sys.stderr)
    if done.execution is not None and planned is not None:
        _report_execution(planned, done.execution, run, not text)
    if text:
        print_run(run, released)
    else:
        sys.stdout.write(run.plan.to_json() + "\n")
    print_deliveries(done.deliveries)
    _write_json(run, args.json_file)  # after the results: a failed write does not hide what was applied
    if run.interrupted:
        return switch.exit_code
    return EXIT_CODES["apply"][run.verdict] if released else EXIT_FAILED


def command(args: argparse.Namespace, settings: RunSettings) -> int:
    """Run diff, plan, apply or reconcile."""
    if args.verb in ("diff", "plan"):
        return plan(args, settings, diff_exit=args.verb == "diff")
    return apply(args, settings)

