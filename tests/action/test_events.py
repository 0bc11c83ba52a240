"""The event payloads GitHub writes to GITHUB_EVENT_PATH, and the run context around them."""

from __future__ import annotations

import json

import pytest

from fluxpush.action.events import pulls_named_in_message, read_context
from fluxpush.errors import UsageError

from .conftest import REPO, dispatch_event, pull_request_event, push_event

HEAD, BASE, MERGE = "1" * 40, "2" * 40, "3" * 40


def environment(tmp_path, name: str, payload: dict) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return {
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_SHA": MERGE,
        "GITHUB_SERVER_URL": "https://github.example.com",
        "GITHUB_API_URL": "https://github.example.com/api/v3",
        "GITHUB_RUN_ID": "77",
        "GITHUB_WORKSPACE": str(tmp_path),
    }


def test_pull_request_reports_on_the_head_commit_not_the_merge_commit(tmp_path):
    context = read_context(environment(tmp_path, "pull_request", pull_request_event(5, HEAD, BASE)))
    assert context.sha == HEAD, "GITHUB_SHA is the synthetic merge commit"
    pull = context.pull_request
    assert pull is not None and (pull.number, pull.base_sha, pull.base_ref, pull.is_fork) == (
        5,
        BASE,
        "main",
        False,
    )
    assert context.run_url == f"https://github.example.com/{REPO}/actions/runs/77"
    assert context.api_url == "https://github.example.com/api/v3"


def test_a_pull_request_from_a_fork_is_recognised(tmp_path):
    payload = pull_request_event(6, HEAD, BASE, fork=True)
    assert read_context(environment(tmp_path, "pull_request", payload)).pull_request.is_fork


def test_push_and_dispatch(tmp_path):
    push = read_context(
        environment(tmp_path, "push", push_event(BASE, HEAD, "Merge pull request #9 from a/b"))
    )
    assert (push.sha, push.default_branch) == (HEAD, "main")
    assert push.head_commit_message.startswith("Merge pull request #9")
    dispatch = read_context(environment(tmp_path, "workflow_dispatch", dispatch_event({"dry-run": "true"})))
    assert dispatch.sha == MERGE and dispatch.pull_request is None


def test_unsupported_event_and_missing_payload_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="'issue_comment' is not supported"):
        read_context(environment(tmp_path, "issue_comment", {}))
    env = environment(tmp_path, "push", {})
    env["GITHUB_EVENT_PATH"] = str(tmp_path / "missing.json")
    with pytest.raises(UsageError, match="cannot read the event payload"):
        read_context(env)


@pytest.mark.parametrize(
    ("message", "numbers"),
    [
        ("Merge pull request #12 from acme/feature\n\nMore replicas", [12]),
        ("More replicas (#31)\n\n* squashed", [31]),
        ("Rebased commit without a marker", []),
    ],
)
def test_pull_request_numbers_from_merge_messages(message, numbers):
    assert pulls_named_in_message(message) == numbers
