"""The sticky PR comment against the fake GitHub: one per cluster path, found by marker AND author on any
page, created once, edited in place, left alone when unchanged."""

from __future__ import annotations

import dataclasses

import pytest

from fluxpush.errors import ReportError
from fluxpush.report.comment import COMMENT_LIMIT, sticky_marker
from fluxpush.report.github import GitHubReporter
from fluxpush.report.github_app import PREVIEW_PERMISSIONS, connect_app, connect_token

from .conftest import FAST, REPO

PR = 42


@pytest.fixture
def reporter(fake_github, app_pem, clock, commands):
    fake_github.state.install(REPO, PREVIEW_PERMISSIONS)
    fake_github.state.add_pull(REPO, PR)
    connection = connect_app(
        REPO,
        fake_github.state.app.id,
        app_pem,
        permissions=PREVIEW_PERMISSIONS,
        api_url=fake_github.base_url,
        options=FAST,
        clock=clock,
        commands=commands,
    )
    return GitHubReporter(connection)


def _writes(fake) -> list[tuple[str, str]]:
    return [
        (r.method, r.path)
        for r in fake.state.requests
        if r.method in ("POST", "PATCH") and "comments" in r.path
    ]


def _ours(fake) -> list:
    return [c for c in fake.state.comments if c.login == "fluxpush-test[bot]"]


def test_created_once_then_edited_in_place_and_not_touched_when_unchanged(reporter, fake_github):
    first = reporter.upsert_sticky_comment(PR, "clusters/prod", "plan A")
    again = reporter.upsert_sticky_comment(PR, "clusters/prod", "plan A")
    edited = reporter.upsert_sticky_comment(PR, "clusters/prod", "plan B")

    assert (first.action, again.action, edited.action) == ("created", "unchanged", "updated")
    assert first.id == again.id == edited.id
    assert _writes(fake_github) == [
        ("POST", f"/repos/{REPO}/issues/{PR}/comments"),
        ("PATCH", f"/repos/{REPO}/issues/comments/{first.id}"),
    ]
    (comment,) = _ours(fake_github)
    assert comment.body == f"{sticky_marker('clusters/prod')}\nplan B"
    assert first.url.endswith(f"/{REPO}/pull/{PR}#issuecomment-{first.id}")


def test_found_on_the_third_page_of_comments(reporter, fake_github, app_pem, clock, commands):
    small_pages = GitHubReporter(
        connect_app(
            REPO,
            fake_github.state.app.id,
            app_pem,
            permissions=PREVIEW_PERMISSIONS,
            api_url=fake_github.base_url,
            options=dataclasses.replace(FAST, per_page=2),
            clock=clock,
            commands=commands,
        )
    )
    for n in range(4):
        fake_github.state.add_comment(REPO, PR, f"LGTM {n}", "reviewer")
    ours = fake_github.state.add_comment(
        REPO, PR, f"{sticky_marker('clusters/prod')}\nold plan", "fluxpush-test[bot]"
    )

    result = small_pages.upsert_sticky_comment(PR, "clusters/prod", "new plan")

    assert (result.action, result.id) == ("updated", ours.id)
    pages = [
        r.query.get("page", "1")
        for r in fake_github.state.requests_to("GET", rf"/repos/{REPO}/issues/{PR}/comments")
    ]
    assert pages == ["1", "2", "3"]
    assert not fake_github.state.requests_to("POST", rf"/repos/{REPO}/issues/{PR}/comments")
    assert len(_ours(fake_github)) == 1


def test_another_users_comment_with_our_marker_is_not_ours(reporter, fake_github):
    marker = sticky_marker("clusters/prod")
    planted = fake_github.state.add_comment(REPO, PR, f"{marker}\nno changes, merge away", "mallory")

    result = reporter.upsert_sticky_comment(PR, "clusters/prod", "real plan")

    assert result.action == "created" and result.id != planted.id
    assert planted.body == f"{marker}\nno changes, merge away"
    assert reporter.find_sticky_comment(PR, "clusters/prod").id == result.id


def test_one_comment_per_cluster_path(reporter, fake_github):
    prod = reporter.upsert_sticky_comment(PR, "clusters/prod", "prod plan")
    staging = reporter.upsert_sticky_comment(PR, "clusters/prod-eu", "staging plan")
    reporter.upsert_sticky_comment(PR, "clusters/prod", "prod plan 2")

    assert prod.id != staging.id
    bodies = sorted(c.body for c in _ours(fake_github))
    assert bodies == [
        f"{sticky_marker('clusters/prod')}\nprod plan 2",
        f"{sticky_marker('clusters/prod-eu')}\nstaging plan",
    ]


def test_marker_cannot_be_closed_by_the_cluster_path():
    marker = sticky_marker("clusters/x --> <b>y")
    assert marker.startswith("<!-- fluxpush:") and marker.endswith(" -->")
    assert marker.count("-->") == 1


def test_body_over_the_limit_is_refused_before_any_request(reporter, fake_github):
    before = len(fake_github.state.requests)
    with pytest.raises(ReportError, match="over GitHub's 65,536 limit"):
        reporter.upsert_sticky_comment(PR, "clusters/prod", "x" * COMMENT_LIMIT)
    assert len(fake_github.state.requests) == before


def test_github_token_comments_are_found_as_github_actions_bot(fake_github, commands):
    fake_github.state.add_pull(REPO, PR)
    fake_github.state.add_actions_token("ghs_actions", REPO, {"pull_requests": "write"})
    connection = connect_token(
        REPO, "ghs_actions", api_url=fake_github.base_url, options=FAST, commands=commands
    )
    reporter = GitHubReporter(connection)

    first = reporter.upsert_sticky_comment(PR, "clusters/prod", "plan")
    second = reporter.upsert_sticky_comment(PR, "clusters/prod", "plan")

    assert (first.action, second.action, first.id) == ("created", "unchanged", second.id)
    assert [c.login for c in fake_github.state.comments] == ["github-actions[bot]"]


def test_commenting_without_permission_names_it(fake_github, commands):
    fake_github.state.add_pull(REPO, PR)
    fake_github.state.add_actions_token("ghs_readonly", REPO, {"pull_requests": "read", "contents": "read"})
    connection = connect_token(
        REPO, "ghs_readonly", api_url=fake_github.base_url, options=FAST, commands=commands
    )

    with pytest.raises(ReportError) as caught:
        GitHubReporter(connection).upsert_sticky_comment(PR, "clusters/prod", "plan")
    assert "HTTP 403" in str(caught.value)
    assert "`issues: write` or `pull_requests: write`" in str(caught.value)
    assert "permissions:" in str(caught.value)
