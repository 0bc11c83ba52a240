"""push and workflow_dispatch runs: apply to the cluster, a deployment with statuses, the result on the
merged pull request, and a failing exit code and failure statuses when the apply fails."""

from __future__ import annotations

import base64

import pytest

from fluxpush.app.reconcilers import default_reconcilers
from fluxpush.engine.run import run_nodes
from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.options import EngineOptions
from fluxpush.repository.discover import DiscoverOptions, discover

from .conftest import CLUSTER_PATH, REPO, dispatch_event, push_event

pytestmark = pytest.mark.integration

DEPLOYMENT = "apps/app-2/deployment.yaml"


@pytest.fixture
def deploy_inputs(run_action, cluster):
    _, kubeconfig = cluster
    run_action.inputs["kubeconfig"] = str(kubeconfig)
    return run_action


def replicas(sim, namespace: str, name: str) -> int:
    with KubeClient(connect_sandbox(sim)) as client:
        live = client.get("apps/v1", "Deployment", name, namespace)
    assert live is not None
    return live["spec"]["replicas"]


def merge(checkout, github, number: int, old: str, new: str) -> str:
    """Commit an edit on main as the merge of pull request `number`, which GitHub then knows."""
    checkout.edit(DEPLOYMENT, old, new)
    sha = checkout.commit(f"Merge pull request #{number} from acme/feature-{number}")
    github.state.add_pull(REPO, number, merged=True, merge_commit_sha=sha)
    return sha


def test_push_applies_reports_a_deployment_and_comments_on_the_merged_pull_request(
    checkout, github, deploy_inputs, cluster
):
    sim, _ = cluster
    sha = merge(checkout, github, 21, "replicas: 1", "replicas: 2")

    run = deploy_inputs(
        "push", push_event(checkout.base_sha, sha, "Merge pull request #21"), checkout.root, sha
    )

    assert run.code == 0, run.stdout
    assert (run.outputs["changed"], run.outputs["result"]) == ("true", "success")
    assert replicas(sim, "app-2", "app-2") == 2
    (deployment,) = github.state.deployments
    assert (deployment["ref"], deployment["environment"]) == (sha, "dev")
    assert deployment["auto_merge"] is False and deployment["required_contexts"] == []
    states = [(s["state"], s["deployment_id"]) for s in github.state.deployment_statuses]
    assert states == [("in_progress", deployment["id"]), ("success", deployment["id"])]
    run_url = f"{github.web_url}/{REPO}/actions/runs/{run.env['GITHUB_RUN_ID']}"
    assert all(s["log_url"] == run_url for s in github.state.deployment_statuses)
    (check,) = github.state.check_runs
    assert (check["name"], check["head_sha"], check["conclusion"]) == (
        f"fluxpush deploy ({CLUSTER_PATH})",
        sha,
        "success",
    )
    (comment,) = github.state.comments
    assert comment.number == 21 and "✅ deployed:" in comment.body
    assert "| `Kustomization/flux-system/app-2` |" in comment.body
    assert "::group::Kustomization/flux-system/app-2: ✅ applied" in run.stdout

    again = deploy_inputs("push", push_event(sha, sha, "Merge pull request #21"), checkout.root, sha)
    assert again.code == 0
    assert (again.outputs["changed"], again.outputs["result"]) == ("false", "no-op")


def test_a_failed_apply_fails_the_step_the_check_and_the_deployment(checkout, github, deploy_inputs, cluster):
    sha = merge(checkout, github, 22, "replicas: 1", "replicas: -1")

    run = deploy_inputs(
        "push", push_event(checkout.base_sha, sha, "Merge pull request #22"), checkout.root, sha
    )

    assert run.code == 1
    assert run.outputs["result"] == "failure"
    assert run.outputs["summary"].startswith(f"{CLUSTER_PATH}: ❌ deploy failed: 1 of")
    assert [s["state"] for s in github.state.deployment_statuses] == ["in_progress", "failure"]
    (check,) = github.state.check_runs
    assert check["conclusion"] == "failure"
    (comment,) = github.state.comments
    assert "❌ ReconciliationFailed" in comment.body and "must be greater than or equal to 0" in comment.body
    blocked = [
        line for line in comment.body.splitlines() if line.startswith("| `Kustomization/flux-system/app-")
    ]
    assert any("❌" in line for line in blocked)


def test_dispatch_reconciles_only_the_targets(checkout, github, deploy_inputs, cluster):
    sim, _ = cluster
    with KubeClient(connect_sandbox(sim)) as client:
        base = discover(checkout.root, DiscoverOptions(cluster_path=CLUSTER_PATH))
        assert run_nodes(base, client, EngineOptions(), apply=True, reconcilers=default_reconcilers()).ok
    checkout.edit(DEPLOYMENT, "replicas: 1", "replicas: 3")
    checkout.edit("apps/app-1/overlays/dev/deployment-patch.yaml", "${replicas}", "5")
    sha = checkout.commit("two edits")
    # app-2 depends on infrastructure, from the same source: as kustomize-controller's dependency
    # check, infrastructure must have applied this revision, so it is a target too.
    deploy_inputs.inputs["targets"] = "infrastructure, app-2"

    run = deploy_inputs("workflow_dispatch", dispatch_event({"targets": "infrastructure, app-2"}),
                        checkout.root, sha)

    assert run.code == 0, run.stdout
    assert replicas(sim, "app-2", "app-2") == 3
    assert replicas(sim, "app-1", "app-1") == 2, "app-1 was not a target"
    assert [r for r in run.stdout.splitlines() if r.startswith("::group::")] == [
        "::group::Kustomization/flux-system/infrastructure: ✅ in sync",
        "::group::Kustomization/flux-system/app-2: ✅ applied (1 writes)",
    ]
    assert github.state.deployments[-1]["ref"] == sha
    assert github.state.comments == [], "a dispatch has no pull request"
    assert github.state.check_runs[-1]["name"] == f"fluxpush reconcile ({CLUSTER_PATH})"


def test_dispatch_dry_run_writes_nothing_and_creates_no_deployment(checkout, github, deploy_inputs, cluster):
    sim, _ = cluster
    deploy_inputs.inputs["dry-run"] = "true"
    sim.requests.clear()
    run = deploy_inputs("workflow_dispatch", dispatch_event({}), checkout.root, checkout.base_sha)
    assert run.code == 0 and run.outputs["changed"] == "true"
    assert "dry run" in run.outputs["summary"]
    writes = [r for r in sim.requests.entries() if r.method != "GET" and r.query.get("dryRun") != "All"]
    assert writes == []
    assert github.state.deployments == []


def test_an_unknown_target_is_reported_by_input_name(checkout, github, deploy_inputs):
    deploy_inputs.inputs["targets"] = "app-9"
    run = deploy_inputs("workflow_dispatch", dispatch_event({}), checkout.root, checkout.base_sha)
    assert run.code == 1
    assert "input `targets`: app-9 not found" in run.stdout
    assert run.outputs["result"] == "failure"
    assert [s["state"] for s in github.state.deployment_statuses] == ["in_progress", "failure"]


def test_invalid_inputs_exit_2_before_anything_happens(checkout, github, run_action):
    run_action.inputs["mode"] = "deploy"
    run = run_action(
        "push", push_event(checkout.base_sha, checkout.base_sha, "x"), checkout.root, checkout.base_sha
    )
    assert run.code == 2
    assert "::error title=fluxpush%3A setup::invalid action inputs" in run.stdout
    assert github.state.requests == []


# A merge deploy also notifies through the repository's Alert and Provider (the example's Slack
# provider), with the Provider's Secret read from the cluster; a provider that cannot be reached or
# has no Secret is a warning that never fails the deploy.
def _store_webhook(sim, address: str) -> None:
    with KubeClient(connect_sandbox(sim)) as client:
        client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}, "setup")
        client.apply({"apiVersion": "v1", "kind": "Secret",
                      "metadata": {"name": "slack-webhook", "namespace": "flux-system"},
                      "data": {"address": base64.b64encode(address.encode()).decode()}}, "setup")


def test_a_merge_deploy_sends_the_changed_node_to_the_alerts_provider(
    checkout, github, deploy_inputs, cluster, receiver
):
    sim, _ = cluster
    first = deploy_inputs("push", push_event(checkout.base_sha, checkout.base_sha, "initial"),
                          checkout.root, checkout.base_sha)
    assert first.code == 0
    assert "::warning title=notification failed::" in first.stdout  # no Secret in the cluster yet
    _store_webhook(sim, f"{receiver.url}/slack")

    sha = merge(checkout, github, 31, "replicas: 1", "replicas: 2")
    run = deploy_inputs(
        "push", push_event(checkout.base_sha, sha, "Merge pull request #31"), checkout.root, sha
    )

    assert run.code == 0, run.stdout
    (message,) = receiver.at("/slack")
    text = str(message.json())
    assert "app-2" in text and "Deployment/app-2/app-2 configured" in text
    assert run.env["GITHUB_RUN_ID"] in text, "the message links to the run"
    shown = "\n".join(line for line in run.stdout.splitlines() if not line.startswith("::add-mask::"))
    assert receiver.url not in shown, "the webhook address is never printed (only announced to the runner)"
    assert f"::add-mask::{receiver.url}/slack" in run.stdout
