"""The scenarios: each times fluxpush and its baseline on the same objects, in the same run.

- **render**: `fluxpush build` vs kustomize run once per node, serially, divided by the cores
  fluxpush builds on (the floor for building node by node); each side's median of three rounds.
- **plan**: a no-op plan (the cluster already matches) the client way and the server way vs
  `kubectl diff --server-side` of the same rendered objects.
- **apply**: a first apply to an empty cluster, then an apply after one object changed, vs
  `kubectl apply --server-side` of the same objects in dependency order, on a second cluster.

Every cluster is a fresh kubesim (controllers off: no Pods to schedule, nothing waits for
health) with the latency under test on every request. Requests are counted from kubesim's log.
fluxpush plans and applies in a child process (`bench.engine_child`) whose engine phase is timed
apart from its render, since kubectl is handed objects that are already rendered.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bench.baseline import build_dirs, kubectl_argv, kubectl_env, kustomize_argv, write_rendered
from bench.generate import CLUSTER_PATH, RepoSpec, edit_one_object, edited_file, generate_repo
from bench.measure import ProcessRun, run_measured
from fluxpush.render.kustomize import kustomize_environment
from fluxpush.repository.discover import DiscoverOptions, Discovery, discover
from fluxpush.tools import Tool, find_kustomize
from kubesim import KubeSim, Options

SCENARIOS = ("render", "plan", "apply", "transport")  # transport: bench/transport.py, once per run
BENCH_ROOT = Path(__file__).resolve().parents[1]  # put on the child's PYTHONPATH to import `bench`
T = TypeVar("T")
RENDER_ROUNDS = 3  # render is timed this many times, each side's median kept
LOG_SETTLE_SECONDS = 0.1  # kubesim logs a request just after answering it; let the last ones land


@dataclass(frozen=True, slots=True)
class Row:
    """One measured command; `baseline` rows are what the others in their group are compared with."""

    scenario: str
    size: str
    objects: int
    latency_ms: float | None
    tool: str
    seconds: float
    requests: int | None
    peak_mib: float | None
    baseline: bool = False
    ok: bool = True
    note: str = ""


@dataclass
class Workload:
    """A generated repository, its discovery, and its rendered objects in one file for kubectl."""

    spec: RepoSpec
    repo: Path
    work: Path
    discovery: Discovery
    rendered: Path
    count: int


def _discover(repo: Path) -> Discovery:
    discovery = discover(repo, DiscoverOptions(CLUSTER_PATH))
    if discovery.problems:
        raise RuntimeError(f"the generated repository has problems: {discovery.problems[0]}")
    return discovery


def prepare_workload(spec: RepoSpec, work: Path) -> Workload:
    """Generate the repository for `spec` under `work` and render it once for the baselines."""
    repo = generate_repo(work / "repo", spec)
    discovery = _discover(repo)
    rendered = work / "rendered.yaml"
    return Workload(spec, repo, work, discovery, rendered, write_rendered(discovery, rendered))


def rerender(workload: Workload) -> None:
    """Discover the repository again (after an edit) and rewrite the rendered objects."""
    workload.discovery = _discover(workload.repo)
    workload.count = write_rendered(workload.discovery, workload.rendered)


@dataclass
class _Cluster:
    sim: KubeSim
    kubeconfig: Path


@contextmanager
def fresh_cluster(work: Path, latency_ms: float) -> Iterator[_Cluster]:
    """An empty kubesim answering every request after `latency_ms`, with a kubeconfig for it."""
    with KubeSim(Options(cluster_name="bench", controllers=False), latency_ms=latency_ms) as sim:
        yield _Cluster(sim, sim.write_kubeconfig(work / f"kubeconfig-{sim.port}"))


def _counted(cluster: _Cluster, run: Callable[[], ProcessRun]) -> tuple[ProcessRun, int]:
    cluster.sim.requests.clear()
    result = run()
    time.sleep(LOG_SETTLE_SECONDS)
    return result, len(cluster.sim.requests.entries())


def _fluxpush(workload: Workload, cluster: _Cluster, *, apply: bool, way: str = "server") -> ProcessRun:
    argv = [sys.executable, "-m", "bench.engine_child", "--repo", str(workload.repo), "--path", CLUSTER_PATH,
            "--kubeconfig", str(cluster.kubeconfig), "--way", way, *(["--apply"] if apply else [])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH_ROOT),
                                                                     os.environ.get("PYTHONPATH")]))}
    return run_measured(argv, env=env)


def _fluxpush_row(workload: Workload, cluster: _Cluster, scenario: str, latency: float, tool: str,
                  *, apply: bool, way: str = "server", expect_changes: int | None = None) -> Row:
    run, requests = _counted(cluster, lambda: _fluxpush(workload, cluster, apply=apply, way=way))
    if run.code != 0:
        return _failed_row(workload, scenario, latency, tool, run, requests)
    data = json.loads(run.stdout)
    ok = bool(data["ok"]) and (expect_changes is None or data["changes"] == expect_changes)
    note = f"render {data['render_s']:.1f}s apart; {data['changes']} changes, {data['written']} writes"
    if data["failed"]:
        note += f"; failed: {', '.join(data['failed'][:3])}"
    return Row(scenario, workload.spec.label, workload.count, latency, tool, data["engine_s"], requests,
               data["peak_mib"], ok=ok, note=note)


def _kubectl_row(workload: Workload, cluster: _Cluster, scenario: str, latency: float, verb: str) -> Row:
    argv = kubectl_argv(verb, cluster.kubeconfig, workload.rendered)
    env = kubectl_env(workload.work / "kubectl-cache")
    run, requests = _counted(cluster, lambda: run_measured(argv, env=env))
    tool = f"kubectl {verb} --server-side"
    if run.code != 0:
        return _failed_row(workload, scenario, latency, tool, run, requests, baseline=True)
    return Row(scenario, workload.spec.label, workload.count, latency, tool, run.seconds, requests,
               run.peak_mib, baseline=True)


def _failed_row(workload: Workload, scenario: str, latency: float, tool: str, run: ProcessRun, requests: int,
                *, baseline: bool = False) -> Row:
    last_line = (run.stderr.strip().splitlines() or [""])[-1]
    why = "timed out" if run.timed_out else f"exit {run.code}: {last_line}"
    return Row(scenario, workload.spec.label, workload.count, latency, tool, run.seconds, requests,
               run.peak_mib, baseline=baseline, ok=False, note=why[:200])


def _median(items: list[T], key: Callable[[T], float]) -> T:
    """The middle item by `key` (the lower middle of an even count)."""
    return sorted(items, key=key)[(len(items) - 1) // 2]


def _render_round(workload: Workload, tool: Tool, directories: list[Path]
                  ) -> tuple[ProcessRun, list[ProcessRun]]:
    """One `fluxpush build` and, right after it, kustomize once per node, serially."""
    build = run_measured([sys.executable, "-m", "fluxpush.cli", "build", "--repo", str(workload.repo),
                          "--path", CLUSTER_PATH])
    return build, [run_measured(kustomize_argv(tool, directory)) for directory in directories]


def run_render(workload: Workload) -> list[Row]:
    """`fluxpush build` vs kustomize once per node, serially, divided by the cores fluxpush uses;
    `RENDER_ROUNDS` rounds of both, each side's median round reported (a one-second build varies
    by a tenth of a second from run to run)."""
    tool = find_kustomize()
    directories = build_dirs(workload.discovery)
    rounds = [_render_round(workload, tool, directories) for _ in range(RENDER_ROUNDS)]
    build = _median([b for b, _ in rounds], key=lambda run: run.seconds)
    floor = _median([f for _, f in rounds], key=lambda runs: sum(r.seconds for r in runs))
    serial = sum(run.seconds for run in floor)
    # The same builds with the Go collector settings fluxpush gives kustomize: how much of the
    # ratio is kustomize made cheaper rather than fluxpush's own work.
    tuned = sum(run_measured(kustomize_argv(tool, directory), env=kustomize_environment()).seconds
                for directory in directories)
    cores = min(os.cpu_count() or 1, DiscoverOptions(CLUSTER_PATH).max_workers)
    label, count = workload.spec.label, workload.count
    spread = f"median of {RENDER_ROUNDS} rounds: {', '.join(f'{b.seconds:.2f}' for b, _ in rounds)}s"
    return [
        Row("render", label, count, None, "fluxpush build", build.seconds, None, build.peak_mib,
            ok=build.code == 0, note=spread if build.code == 0 else build.stderr.strip()[-200:]),
        Row("render", label, count, None, f"kustomize ×{len(floor)} serial ÷ {cores} cores", serial / cores,
            None, max(run.peak_mib for run in floor), baseline=True,
            ok=all(run.code == 0 for run in floor),
            note=f"serial {serial:.1f}s; {tuned:.1f}s with fluxpush's GOGC settings "
                 f"(fluxpush build ×{build.seconds / (tuned / cores):.2f} of that ÷ {cores})"),
    ]


def run_plan(workload: Workload, latency: float) -> list[Row]:
    """A no-op plan, both ways, vs `kubectl diff --server-side`, on a cluster fluxpush applied."""
    with fresh_cluster(workload.work, 0.0) as cluster:
        setup = _fluxpush(workload, cluster, apply=True)
        if setup.code != 0 or not json.loads(setup.stdout)["ok"]:
            why = setup.stderr[-500:] + setup.stdout[-500:]
            raise RuntimeError(f"setting up the plan scenario failed: {why}")
        cluster.sim.faults.latency(latency)
        return [
            _fluxpush_row(workload, cluster, "no-op plan", latency, "fluxpush plan (client way)",
                          apply=False, way="client", expect_changes=0),
            _fluxpush_row(workload, cluster, "no-op plan", latency, "fluxpush plan (server way)",
                          apply=False, way="server", expect_changes=0),
            _kubectl_row(workload, cluster, "no-op plan", latency, "diff"),
        ]


def run_apply(workload: Workload, latency: float) -> list[Row]:
    """First apply, then one changed object, each vs `kubectl apply --server-side` on its own cluster."""
    with fresh_cluster(workload.work, latency) as ours, fresh_cluster(workload.work, latency) as theirs:
        rows = [
            _fluxpush_row(workload, ours, "first apply", latency, "fluxpush apply", apply=True),
            _kubectl_row(workload, theirs, "first apply", latency, "apply"),
        ]
        edited = edited_file(workload.repo, workload.spec)
        before = edited.read_text(encoding="utf-8")
        try:
            edit_one_object(workload.repo, workload.spec, f"changed-at-{latency:g}ms")
            rerender(workload)
            rows += [
                _fluxpush_row(workload, ours, "one-object change", latency, "fluxpush apply", apply=True,
                              expect_changes=1),
                _kubectl_row(workload, theirs, "one-object change", latency, "apply"),
            ]
        finally:
            edited.write_text(before, encoding="utf-8")
            rerender(workload)
        return rows
