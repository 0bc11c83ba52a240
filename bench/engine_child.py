"""`python -m bench.engine_child`: one fluxpush plan or apply, timed phase by phase, as JSON on stdout.

Runs in its own process so the parent can read its peak memory. The render (discovery, kustomize)
and the engine (plan or apply against the cluster) are timed apart: the engine's time is what the
kubectl baselines compare with, since kubectl is handed objects that are already rendered.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from fluxpush.app.reconcilers import default_reconcilers
from fluxpush.engine.run import run_nodes
from fluxpush.kube import KubeClient, connect_kubeconfig
from fluxpush.planning.options import EngineOptions, PlanWay
from fluxpush.repository.discover import DiscoverOptions, discover


def peak_mib() -> float | None:
    """This process's own peak RSS (VmHWM: since its exec, unlike ru_maxrss, which starts from the
    RSS of the process that forked it), in MiB; None where /proc is missing."""
    try:
        status = Path("/proc/self/status").read_text(encoding="utf-8")
    except OSError:
        return None
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return int(line.split()[1]) / 1024 if line else None


def main(argv: list[str] | None = None) -> int:
    """Discover, then plan or apply every node; print timings and counts as one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m bench.engine_child")
    parser.add_argument("--repo", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--apply", action="store_true", help="apply (default: plan)")
    parser.add_argument("--way", choices=[w.value for w in PlanWay], default=PlanWay.SERVER.value)
    args = parser.parse_args(argv)
    started = time.monotonic()
    discovery = discover(args.repo, DiscoverOptions(cluster_path=args.path))
    rendered, render_cpu = time.monotonic(), time.process_time()
    with KubeClient(connect_kubeconfig(args.kubeconfig)) as client:
        run = run_nodes(discovery, client, EngineOptions(way=PlanWay(args.way)), apply=args.apply,
                        reconcilers=default_reconcilers())
    finished = time.monotonic()
    totals = run.plan.totals
    json.dump({
        "render_s": round(rendered - started, 3),
        "engine_s": round(finished - rendered, 3),
        "engine_cpu_s": round(time.process_time() - render_cpu, 3),  # this process's threads, all cores
        "ok": run.ok,
        "problems": len(discovery.problems),
        "changes": totals.create + totals.update + totals.delete,
        "written": sum(len(result.applied) for result in run.results),
        "failed": [str(r.node) for r in run.results if not r.ok],
        "peak_mib": peak_mib(),
    }, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
