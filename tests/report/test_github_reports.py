"""Commit pulls, check runs / commit statuses, deployments and rate-limit retries against the fake GitHub."""

from __future__ import annotations

import pytest

from fakegithub.state import iso
from fluxpush.errors import ReportError
from fluxpush.report.github import GitHubReporter
from fluxpush.report.github_app import DEPLOY_PERMISSIONS, connect_app, connect_token
from fluxpush.report.ratelimit import RateLimitPolicy

from .conftest import FAST, REPO

SHA = "a" * 40


class Sleeps(list):
    """Records the waits instead of sleeping; `then` runs on the first wait."""

    def __init__(self, then=None) -> None:
        super().__init__()
        self.then = then

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self.then is not None and len(self) == 1:
            self.then()


@pytest.fixture
def app_connection(fake_github, app_pem, clock, commands):
    fake_github.state.install(REPO, DEPLOY_PERMISSIONS)
    return connect_app(
        REPO,
        fake_github.state.app.id,
        app_pem,
        api_url=fake_github.base_url,
        options=FAST,
        clock=clock,
        commands=commands,
    )


@pytest.fixture
def token_connection(fake_github, commands):
    fake_github.state.add_actions_token("ghs_actions", REPO, {"statuses": "write", "contents": "read"})
    return connect_token(REPO, "ghs_actions", api_url=fake_github.base_url, options=FAST, commands=commands)


def test_merged_pull_requests_of_a_commit(fake_github, app_connection, clock):
    fake_github.state.add_pull(REPO, 12, merged=True, merge_commit_sha=SHA)
    fake_github.state.add_pull(REPO, 15, head_sha=SHA)  # still open, contains the commit
    fake_github.state.add_pull(REPO, 9, merged=True, merge_commit_sha="b" * 40, head_sha=SHA)  # stacked
    fake_github.state.add_pull(REPO, 3, merged=True, merge_commit_sha=SHA, base_ref="release")
    sleeps = Sleeps()

    pulls = GitHubReporter(app_connection, sleep=sleeps, clock=clock).find_merged_pulls(SHA, base="main")

    assert [(p.number, p.merge_commit_sha) for p in pulls] == [(12, SHA), (9, "b" * 40)]
    assert pulls[0].url.endswith(f"/{REPO}/pull/12")
    (request,) = fake_github.state.requests_to("GET", rf"/repos/{REPO}/commits/{SHA}/pulls")
    assert request.headers["accept"] == "application/vnd.github.groot-preview+json"
    assert sleeps == []


def test_pull_lookup_asks_again_while_github_has_not_indexed_the_merge(fake_github, app_connection, clock):
    sleeps = Sleeps(then=lambda: fake_github.state.add_pull(REPO, 21, merged=True, merge_commit_sha=SHA))
    pulls = GitHubReporter(app_connection, sleep=sleeps, clock=clock).find_merged_pulls(SHA)
    assert [p.number for p in pulls] == [21] and sleeps == [1.0]

    never = Sleeps()
    assert GitHubReporter(app_connection, sleep=never, clock=clock).find_merged_pulls("c" * 40) == []
    assert never == [1.0, 2.0, 4.0]


def test_app_reports_a_check_run(fake_github, app_connection, clock):
    report = GitHubReporter(app_connection, clock=clock).report_commit(
        SHA,
        name="fluxpush / clusters/prod",
        title="3 changes applied",
        summary="s" * 70_000,
        conclusion="success",
        details_url="https://ci.example/run/1",
    )

    (run,) = fake_github.state.check_runs
    assert report.kind == "check_run" and report.id == run["id"]
    assert (run["name"], run["head_sha"], run["status"], run["conclusion"]) == (
        "fluxpush / clusters/prod",
        SHA,
        "completed",
        "success",
    )
    assert run["output"]["title"] == "3 changes applied"
    assert len(run["output"]["summary"]) == 65_535 and run["output"]["summary"].endswith("…")
    assert run["details_url"] == "https://ci.example/run/1"
    assert run["completed_at"] == iso(clock())  # from the injected clock, in GitHub's UTC form
    assert not fake_github.state.statuses


def test_token_reports_a_commit_status_with_a_short_description(fake_github, token_connection):
    long_title = "apply failed: " + "x" * 300
    report = GitHubReporter(token_connection).report_commit(
        SHA, name="fluxpush/clusters/prod", title=long_title, summary="…", conclusion="timed_out"
    )

    (status,) = fake_github.state.statuses
    assert report.kind == "status"
    assert (status["state"], status["context"]) == ("error", "fluxpush/clusters/prod")
    assert len(status["description"]) == 140 and status["description"].endswith("…")
    assert not fake_github.state.check_runs


def test_deployment_and_its_statuses(fake_github, app_connection):
    reporter = GitHubReporter(app_connection)
    deployment_id = reporter.create_deployment(
        SHA, "prod-eks", description="fluxpush apply", payload={"n": 3}
    )
    reporter.set_deployment_status(deployment_id, "in_progress", log_url="https://ci.example/run/1")
    reporter.set_deployment_status(
        deployment_id, "success", log_url="https://ci.example/run/1", environment_url="https://prod.example"
    )

    (deployment,) = fake_github.state.deployments
    assert deployment["id"] == deployment_id
    assert (deployment["ref"], deployment["environment"], deployment["payload"]) == (
        SHA,
        "prod-eks",
        {"n": 3},
    )
    assert deployment["auto_merge"] is False
    assert deployment["required_contexts"] == []
    assert deployment["transient_environment"] is False
    states = [
        (s["state"], s.get("log_url"), s.get("environment_url"))
        for s in fake_github.state.deployment_statuses
    ]
    assert states == [
        ("in_progress", "https://ci.example/run/1", None),
        ("success", "https://ci.example/run/1", "https://prod.example"),
    ]
    with pytest.raises(ValueError, match="unknown deployment state"):
        reporter.set_deployment_status(deployment_id, "done")


def test_secondary_rate_limit_is_waited_out(fake_github, app_connection, clock):
    fake_github.state.fail_next(
        "POST", rf"/repos/{REPO}/check-runs", status=403, headers={"Retry-After": "7"}
    )
    fake_github.state.fail_next(
        "POST",
        rf"/repos/{REPO}/deployments",
        status=429,
        message="Too many requests",
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(clock()) + 30)},
    )
    sleeps = Sleeps()
    reporter = GitHubReporter(app_connection, sleep=sleeps, clock=clock)

    reporter.report_commit(SHA, name="fluxpush", title="ok", summary="ok", conclusion="success")
    reporter.create_deployment(SHA, "prod-eks")

    assert len(fake_github.state.check_runs) == 1 and len(fake_github.state.deployments) == 1
    assert len(fake_github.state.requests_to("POST", rf"/repos/{REPO}/check-runs")) == 2
    assert sleeps[0] == 7.0
    assert 30.0 <= sleeps[1] <= 31.0


def test_rate_limit_retries_are_bounded(fake_github, app_connection, clock):
    fake_github.state.fail_next("POST", rf"/repos/{REPO}/check-runs", headers={"Retry-After": "1"}, times=50)
    sleeps = Sleeps()
    reporter = GitHubReporter(
        app_connection, sleep=sleeps, clock=clock, policy=RateLimitPolicy(max_attempts=4)
    )

    with pytest.raises(ReportError, match="rate limit: gave up on create check run"):
        reporter.report_commit(SHA, name="fluxpush", title="ok", summary="ok", conclusion="success")
    assert len(fake_github.state.requests_to("POST", rf"/repos/{REPO}/check-runs")) == 4
    assert sleeps == [1.0, 1.0, 1.0]

    fake_github.state.faults.clear()
    fake_github.state.fail_next("POST", rf"/repos/{REPO}/check-runs", headers={"Retry-After": "600"})
    with pytest.raises(ReportError, match="asked for 600 s more"):
        reporter.report_commit(SHA, name="fluxpush", title="ok", summary="ok", conclusion="success")


def test_a_plain_403_is_a_permission_error_not_a_rate_limit(fake_github, token_connection):
    sleeps = Sleeps()
    with pytest.raises(ReportError) as caught:
        GitHubReporter(token_connection, sleep=sleeps).create_deployment(SHA, "prod-eks")
    assert "`deployments: write`" in str(caught.value)
    assert sleeps == []


def test_a_running_check_run_is_completed_in_place(fake_github, app_connection, clock):
    reporter = GitHubReporter(app_connection, clock=clock)
    running = reporter.report_commit(SHA, name="fluxpush", title="applying", summary="…", conclusion=None)
    done = reporter.report_commit(
        SHA, name="fluxpush", title="applied", summary="2 nodes", conclusion="failure", update=running
    )

    (run,) = fake_github.state.check_runs
    (created,) = fake_github.state.requests_to("POST", rf"/repos/{REPO}/check-runs")
    assert created.body["status"] == "in_progress" and "conclusion" not in created.body
    assert done.id == running.id == run["id"]
    assert [u["status"] for u in run["updates"]] == ["completed"]
    assert (run["status"], run["conclusion"], run["output"]["title"]) == ("completed", "failure", "applied")
    assert [r.method for r in fake_github.state.requests_to("PATCH", rf"/repos/{REPO}/check-runs/\d+")] == [
        "PATCH"
    ]
