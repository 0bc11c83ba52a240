"""Snapshots (syrupy) of every rendered output, so that a reviewer sees each change to what users read:
the terminal plan and apply report, the JSON plan, the PR comment, the check run text, the job summary
and the `get`/`tree` tables.

One real run feeds them all: the example repository applied to a kubesim, then changed (a ConfigMap
line, a replica count, a removed Service) and planned again. Revisions, durations, timestamps and
request counts are masked; everything else must match byte for byte.
Update after an intended change with `pytest tests/snapshots --snapshot-update` and review the diff.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from fluxpush.action.events import RunContext
from fluxpush.action.modes import ModeResult, from_run
from fluxpush.action.output import summary_limit
from fluxpush.action.render import render_markdown, status_line
from fluxpush.app.reconcilers import default_reconcilers
from fluxpush.cli import main
from fluxpush.engine.run import RunResult, run_nodes
from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.options import EngineOptions
from fluxpush.report.comment import COMMENT_LIMIT
from fluxpush.report.github import CHECK_OUTPUT_MAX
from fluxpush.report.terminal import render_text
from fluxpush.repository.discover import DiscoverOptions, Discovery, discover
from kubesim import KubeSim, Options

MASKS = (
    (re.compile(r"sha(1|256):[0-9a-f]{8,64}"), r"sha\1:<revision>"),
    (re.compile(r"\b\d+(\.\d+)?m?s\b"), "<duration>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"\b\d+ API requests"), "<n> API requests"),
    (re.compile(r"\b10\.96\.\d+\.\d+\b"), "<cluster-ip>"),  # kubesim allocates in creation order
)


def masked(text: str) -> str:
    """`text` with what changes from run to run replaced by placeholders."""
    for pattern, placeholder in MASKS:
        text = pattern.sub(placeholder, text)
    return text


@dataclass(frozen=True)
class World:
    repo: Path
    kubeconfig: Path
    discovery: Discovery
    applied: str  # what `fluxpush apply` printed
    planned: RunResult


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, example_repo: Path) -> Iterator[World]:
    """The example applied to a kubesim, then edited: a changed line, a changed count, a removed file."""
    base = tmp_path_factory.mktemp("snapshots")
    repo = base / "repo"
    shutil.copytree(example_repo, repo)
    options = DiscoverOptions(cluster_path="clusters/dev")
    with KubeSim(Options(cluster_name="sandbox", ready_delay=0.05, crd_delay=0.05)) as sim, \
            KubeClient(connect_sandbox(sim)) as client:
        kubeconfig = sim.write_kubeconfig(base / "kubeconfig")
        with redirect_stdout(io.StringIO()) as out:
            code = main(["apply", "--repo", str(repo), "--path", "clusters/dev", "--kubeconfig",
                         str(kubeconfig), "--no-notify", "--concurrency", "1"])
        assert code == 0, out.getvalue()
        configmap = repo / "apps/app-2/configmap.yaml"
        configmap.write_text(configmap.read_text().replace("listen 8080;", "listen 9090;"))
        apps = repo / "clusters/dev/apps.yaml"
        apps.write_text(apps.read_text().replace('replicas: "2"', 'replicas: "3"'))
        (repo / "apps/app-2/service.yaml").unlink()
        discovery = discover(repo, options)
        planned = run_nodes(discovery, client, EngineOptions(concurrency=4), apply=False,
                            reconcilers=default_reconcilers())
        yield World(repo, kubeconfig, discovery, out.getvalue(), planned)


@pytest.fixture(scope="module")
def preview(world: World) -> ModeResult:
    return from_run(world.planned, world.discovery, "plan", "the live cluster", dry_run=False)


CONTEXT = RunContext(event_name="pull_request", repository="example-org/gitops-platform", sha="0" * 40,
                     default_branch="main", server_url="https://github.com", api_url="https://api.github.com",
                     run_id="4242", workspace=Path("/github/workspace"))


def test_terminal_plan(world, snapshot):
    assert masked(render_text(world.planned.plan, color=False)) == snapshot


def test_terminal_plan_in_colour(world, snapshot):
    assert masked(render_text(world.planned.plan, color=True)) == snapshot


def test_terminal_apply_report(world, snapshot):
    assert masked(world.applied) == snapshot


def test_json_plan(world, snapshot):
    assert masked(world.planned.plan.to_json()) == snapshot


def test_pr_comment(preview, snapshot):
    body = render_markdown(preview, CONTEXT, "clusters/dev", limit=COMMENT_LIMIT,
                           full_plan="the [job summary](https://github.com/run) of this run")
    assert masked(body) == snapshot


def test_check_run_text(preview, snapshot):
    text = render_markdown(preview, CONTEXT, "clusters/dev", limit=CHECK_OUTPUT_MAX,
                           full_plan="the [job summary](https://github.com/run) of this run")
    assert (status_line(preview), masked(text)) == snapshot


def test_job_summary(preview, snapshot):
    summary = render_markdown(preview, CONTEXT, "clusters/dev", limit=summary_limit(None),
                              full_plan="the plan file `.fluxpush/plan.json` (output `plan-json`)")
    assert masked(summary) == snapshot


@pytest.mark.parametrize("args", [("get", "all"), ("get", "ks", "-o", "json"), ("tree", "ks", "app-1")])
def test_repository_tables(world, snapshot, capsys, args):
    code = main([*args, "--repo", str(world.repo), "--path", "clusters/dev"])
    out = capsys.readouterr().out
    assert code == 0
    assert masked(out) == snapshot


def test_get_with_live_status(world, snapshot, capsys):
    code = main(["get", "all", "--repo", str(world.repo), "--path", "clusters/dev",
                 "--kubeconfig", str(world.kubeconfig)])
    out = capsys.readouterr().out
    assert code == 0
    assert masked(out) == snapshot
