"""A merge deploy says whether what it applied is what the last preview of its pull request showed.

The preview's sticky comment carries the digest of its plan in a hidden HTML comment; the deploy
computes the digest of its own plan (rendered objects, Flux objects, deletions — not the revision
name, so a PR head and its merge commit with the same content agree) and says in its comment, check
run and job summary whether the two match. No Flux tool compares a deploy with its preview.
"""

from __future__ import annotations

import re

import pytest

from .conftest import REPO, git, pull_request_event, push_event

pytestmark = pytest.mark.integration

DEPLOYMENT = "apps/app-2/deployment.yaml"
DIGEST = re.compile(r"<!-- fluxpush-plan-digest: (sha256:[0-9a-f]{64}) -->")


@pytest.fixture
def live_inputs(run_action, cluster):
    _, kubeconfig = cluster
    run_action.inputs["kubeconfig"] = str(kubeconfig)
    return run_action


def preview(checkout, github, run_action, number: int):
    head = checkout.commit(f"pull request #{number}")
    pull = github.state.add_pull(REPO, number, head_sha=head)
    run = run_action("pull_request", pull_request_event(number, head, checkout.base_sha), checkout.root, head)
    assert run.code == 0, run.stdout
    return pull


def merge(checkout, pull) -> str:
    """The merge commit on main: the pull request now knows it (as GitHub's commit → pulls API)."""
    git(checkout.root, "commit", "-q", "--allow-empty", "-m", f"Merge pull request #{pull.number}")
    sha = git(checkout.root, "rev-parse", "HEAD")
    pull.merged, pull.merge_commit_sha, pull.state = True, sha, "closed"
    pull.commits.add(sha)
    return sha


def deploy(checkout, run_action, sha: str, number: int):
    run = run_action("push", push_event(checkout.base_sha, sha, f"Merge pull request #{number}"),
                     checkout.root, sha)
    assert run.code == 0, run.stdout
    return run


def test_a_deploy_of_what_was_previewed_says_so(checkout, github, live_inputs):
    checkout.edit(DEPLOYMENT, "replicas: 1", "replicas: 3")
    pull = preview(checkout, github, live_inputs, 31)
    (comment,) = github.state.comments
    previewed = DIGEST.search(comment.body)
    assert previewed, comment.body

    run = deploy(checkout, live_inputs, merge(checkout, pull), 31)

    (comment,) = github.state.comments
    said = "🔁 Applied exactly what the last preview of #31 showed"
    assert said in comment.body
    assert said in run.summary
    (_, check) = github.state.check_runs
    assert said in check["output"]["summary"]
    again = DIGEST.search(comment.body)  # the deploy keeps the preview's digest: a re-run compares the same
    assert again and again.group(1) == previewed.group(1)

    rerun = deploy(checkout, live_inputs, pull.merge_commit_sha, 31)
    assert said in rerun.summary


def test_a_deploy_that_applies_something_else_than_the_preview_says_it_differs(checkout, github, live_inputs):
    checkout.edit(DEPLOYMENT, "replicas: 1", "replicas: 3")
    pull = preview(checkout, github, live_inputs, 32)
    checkout.edit(DEPLOYMENT, "replicas: 3", "replicas: 4")  # main moved before the merge landed
    checkout.commit("another change on main")

    run = deploy(checkout, live_inputs, merge(checkout, pull), 32)

    assert "⚠️ What was applied differs from the last preview of #32" in run.summary
    (comment,) = github.state.comments
    assert "differs from the last preview of #32" in comment.body
    assert "Applied exactly" not in comment.body


def test_a_deploy_without_a_preview_says_there_is_none(checkout, github, live_inputs):
    checkout.edit(DEPLOYMENT, "replicas: 1", "replicas: 2")
    sha = checkout.commit("Merge pull request #33")
    github.state.add_pull(REPO, 33, merged=True, merge_commit_sha=sha)

    run = deploy(checkout, live_inputs, sha, 33)

    assert "ℹ️ #33 has no fluxpush preview to compare this deploy with." in run.summary
    (comment,) = github.state.comments
    assert not DIGEST.search(comment.body)
