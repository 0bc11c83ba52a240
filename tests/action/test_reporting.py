"""How the action reports around the run: GitHub setup errors stop it before the cluster is touched,
and the `comment` input decides when the sticky comment is posted."""

from __future__ import annotations

import pytest

from .conftest import REPO, pull_request_event

pytestmark = pytest.mark.integration


def readme_only_pull(checkout, github, number: int) -> str:
    (checkout.root / "README.md").write_text("docs only\n")
    head = checkout.commit("docs")
    github.state.add_pull(REPO, number, head_sha=head)
    return head


def test_an_app_that_is_not_installed_is_a_setup_error(checkout, github, run_action, cluster):
    sim, kubeconfig = cluster
    github.state.installations.clear()
    run_action.inputs["kubeconfig"] = str(kubeconfig)
    sim.requests.clear()
    head = readme_only_pull(checkout, github, 40)
    run = run_action("pull_request", pull_request_event(40, head, checkout.base_sha), checkout.root, head)
    assert run.code == 2
    assert f"the GitHub App fluxpush-test is not installed on {REPO}" in run.stdout
    assert sim.requests.entries() == [], "nothing reached the cluster"


def test_a_missing_app_permission_is_named(checkout, github, run_action):
    installation = next(iter(github.state.installations.values()))
    installation.permissions.pop("checks")
    head = readme_only_pull(checkout, github, 41)
    run = run_action("pull_request", pull_request_event(41, head, checkout.base_sha), checkout.root, head)
    assert run.code == 2
    assert "lacks `checks: write`" in run.stdout


def test_on_change_posts_nothing_for_a_preview_without_changes(checkout, github, run_action):
    head = readme_only_pull(checkout, github, 42)
    run = run_action("pull_request", pull_request_event(42, head, checkout.base_sha), checkout.root, head)
    assert run.code == 0
    assert (run.outputs["changed"], run.outputs["result"]) == ("false", "no-op")
    assert github.state.comments == []
    (check,) = github.state.check_runs
    assert check["conclusion"] == "success" and check["output"]["title"] == "✅ preview: no changes"


def test_on_change_keeps_an_existing_comment_up_to_date(checkout, github, run_action):
    checkout.edit("apps/app-2/deployment.yaml", "replicas: 1", "replicas: 3")
    head = checkout.commit("three replicas")
    github.state.add_pull(REPO, 43, head_sha=head)
    run_action("pull_request", pull_request_event(43, head, checkout.base_sha), checkout.root, head)
    checkout.edit("apps/app-2/deployment.yaml", "replicas: 3", "replicas: 1")
    reverted = checkout.commit("back to one")
    run = run_action(
        "pull_request", pull_request_event(43, reverted, checkout.base_sha), checkout.root, reverted
    )
    assert run.outputs["changed"] == "false"
    (comment,) = github.state.comments
    assert "✅ preview: no changes" in comment.body and "replicas: 3" not in comment.body, "no stale diff"


def test_comment_never_posts_nothing(checkout, github, run_action):
    run_action.inputs["comment"] = "never"
    checkout.edit("apps/app-2/deployment.yaml", "replicas: 1", "replicas: 3")
    head = checkout.commit("three replicas")
    github.state.add_pull(REPO, 44, head_sha=head)
    run = run_action("pull_request", pull_request_event(44, head, checkout.base_sha), checkout.root, head)
    assert run.code == 0 and run.outputs["changed"] == "true"
    assert github.state.comments == [] and github.state.requests_to("GET", r".*/comments") == []


def test_a_refused_comment_is_a_warning_and_never_fails_the_run(checkout, github, run_action):
    """A fork's read-only github.token: the preview still runs and reports what it can."""
    github.state.add_actions_token("ghs_read_only", REPO, {"contents": "read", "statuses": "write"})
    for name in ("github-app-id", "github-app-private-key"):
        del run_action.inputs[name]
    run_action.inputs["github-token"] = "ghs_read_only"
    checkout.edit("apps/app-2/deployment.yaml", "replicas: 1", "replicas: 3")
    head = checkout.commit("three replicas")
    github.state.add_pull(REPO, 45, head_sha=head)

    run = run_action("pull_request", pull_request_event(45, head, checkout.base_sha), checkout.root, head)

    assert run.code == 0 and run.outputs["result"] == "success"
    warnings = [line for line in run.stdout.splitlines() if line.startswith("::warning ")]
    assert any("the token lacks `issues: read` or `pull_requests: read`" in w for w in warnings), warnings
    assert github.state.comments == []
    assert [s["state"] for s in github.state.statuses] == ["pending", "success"]
    assert "| `Kustomization/flux-system/app-2` | 0 | 1 | 0 | 📝 changes |" in run.summary


def test_a_fork_pull_request_may_not_deploy(checkout, github, run_action, cluster):
    sim, kubeconfig = cluster
    run_action.inputs.update({"mode": "apply", "kubeconfig": str(kubeconfig)})
    head = readme_only_pull(checkout, github, 46)
    sim.requests.clear()
    payload = pull_request_event(46, head, checkout.base_sha, fork=True)
    run = run_action("pull_request", payload, checkout.root, head)
    assert run.code == 2
    assert "input `mode`: apply is refused on a pull request from a fork" in run.stdout
    assert sim.requests.entries() == [] and github.state.requests == []
