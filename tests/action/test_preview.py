"""pull_request runs: the preview comment, check run and outputs, offline (base vs head) and live (read-only).

Each test runs the whole action with a real pull_request payload against the fake GitHub; the live
previews read a kubesim cluster through a kubeconfig, as a self-hosted cluster would be reached.
"""

from __future__ import annotations

import json
import re

import pytest

from fluxpush.app.reconcilers import default_reconcilers
from fluxpush.engine.run import run_nodes
from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.options import EngineOptions
from fluxpush.planning.plan import Plan
from fluxpush.report.comment import COMMENT_LIMIT, size
from fluxpush.report.github_app import PREVIEW_PERMISSIONS
from fluxpush.repository.discover import DiscoverOptions, discover

from .conftest import CLUSTER_PATH, REPO, git, pull_request_event

pytestmark = pytest.mark.integration

DEPLOYMENT = "apps/app-2/deployment.yaml"


def open_pull(checkout, github, number: int, old: str = "replicas: 1", new: str = "replicas: 3") -> str:
    checkout.edit(DEPLOYMENT, old, new)
    head = checkout.commit(f"app-2: {new}")
    github.state.add_pull(REPO, number, head_sha=head)
    return head


def total_row(body: str) -> tuple[int, int, int]:
    match = re.search(r"^\| \*\*Total\*\* \| (\d+) \| (\d+) \| (\d+) \|", body, re.M)
    assert match, body
    return tuple(int(n) for n in match.groups())


def test_offline_preview_comment_is_created_once_then_updated_in_place(checkout, github, run_action):
    head = open_pull(checkout, github, 7)
    run = run_action("pull_request", pull_request_event(7, head, checkout.base_sha), checkout.root, head)

    assert run.code == 0, run.stdout
    assert (run.outputs["changed"], run.outputs["result"]) == ("true", "success")
    assert "offline" in run.outputs["summary"]
    plan = Plan.from_json((checkout.root / run.outputs["plan-json"]).read_text())
    (comment,) = github.state.comments
    assert comment.body.startswith(f"<!-- fluxpush:{CLUSTER_PATH} -->")
    assert comment.login == "fluxpush-test[bot]"
    totals = plan.totals
    assert total_row(comment.body) == (totals.create, totals.update, totals.delete) == (0, 1, 0)
    assert "| `Kustomization/flux-system/app-2` | 0 | 1 | 0 | 📝 changes |" in comment.body
    assert "-  replicas: 1\n+  replicas: 3" in comment.body
    (check,) = github.state.check_runs
    assert (check["name"], check["head_sha"], check["conclusion"]) == (
        f"fluxpush preview ({CLUSTER_PATH})",
        head,
        "success",
    )
    assert check["output"]["title"].startswith("📝 preview: 0 to create, 1 to change")
    assert github.state.deployments == [], "a preview is no deployment"

    # the App's JWT was accepted (the fake verifies it with the public key) and the token is scoped
    assert github.state.requests_to("GET", "/app")[0].headers["authorization"].startswith("Bearer ")
    (mint,) = github.state.requests_to("POST", r"/app/installations/\d+/access_tokens")
    assert mint.body == {"repositories": ["platform"], "permissions": dict(PREVIEW_PERMISSIONS)}
    (token,) = [t.token for t in github.state.tokens.values() if t.kind == "installation"]
    assert f"::add-mask::{token}\n" in run.stdout and run.stdout.count(token) == 1, "masked, never printed"

    head2 = open_pull(checkout, github, 7, "replicas: 3", "replicas: 4")
    again = run_action("pull_request", pull_request_event(7, head2, checkout.base_sha), checkout.root, head2)
    assert again.code == 0
    (updated,) = github.state.comments
    assert updated.id == comment.id and "+  replicas: 4" in updated.body
    assert len(github.state.requests_to("PATCH", rf"/repos/{REPO}/issues/comments/{comment.id}")) == 1

    # "Re-run jobs": the same run id (GITHUB_RUN_ATTEMPT grows), the same plan, so the same body
    rerun = run_action.env_overrides["GITHUB_RUN_ID"] = again.env["GITHUB_RUN_ID"]
    assert rerun
    run_action("pull_request", pull_request_event(7, head2, checkout.base_sha), checkout.root, head2)
    assert len(github.state.requests_to("PATCH", rf"/repos/{REPO}/issues/comments/{comment.id}")) == 1, (
        "an unchanged body is not sent again"
    )
    assert len(github.state.comments) == 1


def test_the_plan_file_is_ignored_by_git(checkout, github, run_action):
    head = open_pull(checkout, github, 8)
    run = run_action("pull_request", pull_request_event(8, head, checkout.base_sha), checkout.root, head)
    assert (checkout.root / run.outputs["plan-json"]).is_file()
    assert git(checkout.root, "status", "--porcelain") == "", "the checkout stays clean"
    assert git(checkout.root, "worktree", "list").count("\n") == 0, "the base worktree is removed"


def test_a_fork_pull_request_never_touches_the_cluster(checkout, github, run_action, cluster):
    sim, kubeconfig = cluster
    head = open_pull(checkout, github, 9)
    sim.requests.clear()
    run_action.inputs["kubeconfig"] = str(kubeconfig)
    payload = pull_request_event(9, head, checkout.base_sha, fork=True)
    run = run_action("pull_request", payload, checkout.root, head)
    assert run.code == 0 and run.outputs["changed"] == "true"
    assert "offline" in run.outputs["summary"]
    assert sim.requests.entries() == [], "no request reached the cluster"


def test_live_preview_reads_the_cluster_and_never_writes(checkout, github, run_action, cluster):
    sim, kubeconfig = cluster
    with KubeClient(connect_sandbox(sim)) as client:
        base = discover(checkout.root, DiscoverOptions(cluster_path=CLUSTER_PATH))
        assert run_nodes(base, client, EngineOptions(), apply=True, reconcilers=default_reconcilers()).ok
    checkout.edit(DEPLOYMENT, "replicas: 1", "replicas: 2")
    (checkout.root / "apps/app-2/extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  key: value\n"
    )
    head = checkout.commit("app-2: two replicas and a ConfigMap")
    github.state.add_pull(REPO, 10, head_sha=head)
    sim.requests.clear()
    run_action.inputs["kubeconfig"] = kubeconfig.read_text()  # inline content, as from a secret

    run = run_action("pull_request", pull_request_event(10, head, checkout.base_sha), checkout.root, head)

    assert run.code == 0, run.stdout
    assert "against the live cluster" in run.outputs["summary"]
    (comment,) = github.state.comments
    assert "| `Kustomization/flux-system/app-2` | 1 | 1 | 0 | 📝 changes |" in comment.body
    assert "➕ create ConfigMap/app-2/extra" in comment.body
    seen = sim.requests.entries()
    assert seen and {r.method for r in seen} == {"GET"}, "read-only: no writes and no dry runs"
    assert f"::add-mask::{sim.token}\n" in run.stdout, "the inline kubeconfig's token is masked"
    assert "::add-mask::apiVersion" not in run.stdout, "but not every line of the file"


def test_a_huge_diff_is_truncated_within_the_limit_and_kept_whole_in_the_job_summary(
    checkout, github, run_action
):
    documents = [
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bulk-{i:02d}\ndata:\n"
        + "".join(f"  key-{k:03d}: {'x' * 60}\n" for k in range(60))
        for i in range(40)
    ]
    (checkout.root / "apps/app-2/bulk.yaml").write_text("---\n".join(documents))
    head = checkout.commit("app-2: 40 large ConfigMaps")
    github.state.add_pull(REPO, 11, head_sha=head)

    run = run_action("pull_request", pull_request_event(11, head, checkout.base_sha), checkout.root, head)

    assert run.code == 0
    (comment,) = github.state.comments
    body = comment.body
    assert size(body) <= COMMENT_LIMIT
    assert total_row(body) == (40, 0, 0), "the summary counts every object even when diffs are left out"
    assert "objects left out" in body and "job summary" in body
    assert body.count("<details") == body.count("</details>"), "every block is closed"
    assert body.count("```diff") == len(re.findall(r"^```$", body, re.M)), "every fence is closed"
    shown = set(re.findall(r"ConfigMap/app-2/(bulk-\d\d)</summary>", body))
    assert 0 < len(shown) < 40
    assert all(f"ConfigMap/app-2/bulk-{i:02d}</summary>" in run.summary for i in range(40)), (
        "the job summary has the full plan"
    )


def test_a_schema_error_is_annotated_on_its_file_and_line_and_fails(checkout, github, run_action):
    checkout.edit(
        "clusters/dev/apps.yaml",
        "  interval: 5m\n  path: ./apps/app-2",
        "  interval: soon\n  path: ./apps/app-2",
    )
    head = checkout.commit("app-2: a broken interval")
    github.state.add_pull(REPO, 12, head_sha=head)

    run = run_action("pull_request", pull_request_event(12, head, checkout.base_sha), checkout.root, head)

    assert run.code == 1 and run.outputs["result"] == "failure"
    line = next(
        i
        for i, text in enumerate((checkout.root / "clusters/dev/apps.yaml").read_text().splitlines(), 1)
        if "interval: soon" in text
    )
    annotations = [text for text in run.stdout.splitlines() if text.startswith("::error ")]
    assert annotations == [
        f"::error file=clusters/dev/apps.yaml,line={line},title=fluxpush%3A Kustomization/flux-system/app-2"
        "::spec.interval: expected a duration like 5m or 1h30m, got 'soon'"
    ]
    (check,) = github.state.check_runs
    assert check["conclusion"] == "failure"


def test_the_entrypoint_module_runs_with_a_workflow_token(checkout, github, run_action):
    """`python -m fluxpush.action` as the container runs it, with `github.token` instead of an App."""
    github.state.add_actions_token(
        "ghs_workflow_token", REPO, {"pull_requests": "write", "statuses": "write", "contents": "read"}
    )
    for name in ("github-app-id", "github-app-private-key"):
        del run_action.inputs[name]
    run_action.inputs["github-token"] = "ghs_workflow_token"
    head = open_pull(checkout, github, 13)

    run = run_action.subprocess(
        "pull_request", pull_request_event(13, head, checkout.base_sha), checkout.root, head
    )

    assert run.code == 0, run.stdout
    assert run.outputs["result"] == "success"
    (comment,) = github.state.comments
    assert comment.login == "github-actions[bot]"
    assert [(s["state"], s["context"], s["sha"]) for s in github.state.statuses] == [
        ("pending", f"fluxpush preview ({CLUSTER_PATH})", head),
        ("success", f"fluxpush preview ({CLUSTER_PATH})", head),
    ]
    assert all(len(s["description"]) <= 140 for s in github.state.statuses)
    assert github.state.check_runs == []
    assert "::group::Kustomization/flux-system/app-2: 📝 changes" in run.stdout
    assert json.loads((checkout.root / run.outputs["plan-json"]).read_text())["totals"]["update"] == 1
