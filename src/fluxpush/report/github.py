"""Reporting to GitHub over PyGithub: sticky PR comments, a commit's pull requests, check runs or commit
statuses, deployments and deployment statuses.

Every call goes through one seam (`GitHubReporter._call`) that waits out rate limits within bounds and
turns GitHub's refusals into a ReportError that names the missing permission or the thing not found.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from github import Consts, GithubException
from github.IssueComment import IssueComment
from github.Repository import Repository

from fluxpush.errors import ReportError
from fluxpush.redact import redact
from fluxpush.report.comment import COMMENT_LIMIT, size, sticky_marker
from fluxpush.report.github_app import GitHubConnection
from fluxpush.report.ratelimit import DEFAULT_POLICY, RateLimitPolicy, call_with_rate_limit_retry

T = TypeVar("T")

# Commit-status and deployment-status descriptions longer than 140 characters get a 422.
DESCRIPTION_MAX = 140
# Check run `output.summary` and `output.text` are capped at 65,535 characters each.
CHECK_OUTPUT_MAX = 65_535
# Right after a merge, GET commits/{sha}/pulls can still be empty: waits (s) before each retry.
PULLS_LOOKUP_WAITS = (1.0, 2.0, 4.0)
# Deployment-status states GitHub accepts.
DEPLOYMENT_STATES = frozenset({"error", "failure", "inactive", "in_progress", "queued", "pending", "success"})
# A commit status has fewer states than a check run has conclusions.
CONCLUSION_TO_STATE: Mapping[str, str] = {
    "success": "success",
    "neutral": "success",
    "skipped": "success",
    "failure": "failure",
    "action_required": "failure",
    "cancelled": "error",
    "timed_out": "error",
}
_DEPLOYMENT_ACCEPT = f"{Consts.deploymentEnhancementsPreview}, {Consts.deploymentStatusEnhancementsPreview}"


@dataclass(frozen=True, slots=True)
class CommentResult:
    """What `upsert_sticky_comment` did: `created`, `updated` or `unchanged`."""

    id: int
    url: str
    action: str


@dataclass(frozen=True, slots=True)
class PullRef:
    """A pull request associated with a commit."""

    number: int
    url: str
    merge_commit_sha: str | None


@dataclass(frozen=True, slots=True)
class PullResult:
    """What `upsert_pull_request` did: `created`, `updated` or `unchanged`."""

    number: int
    url: str
    action: str


@dataclass(frozen=True, slots=True)
class CommitReport:
    """Where a result was reported on a commit: a `check_run` or a commit `status`."""

    kind: str
    id: int | None
    url: str | None


def clip(text: str, limit: int) -> str:
    """`text` with secret values masked, cut to at most `limit` characters, ending in `…` when cut.
    Every text field sent to GitHub passes through here (the comment body through `redact`)."""
    text = redact(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_line(body: str | None) -> str:
    return (body or "").split("\n", 1)[0].strip()


def _same_body(a: str | None, b: str) -> bool:
    return (a or "").replace("\r\n", "\n") == b.replace("\r\n", "\n")


def _accepted_permissions(headers: Mapping[str, Any] | None) -> str | None:
    """`X-Accepted-GitHub-Permissions: a=read,b=write; c=write` → "`a: read, b: write` or `c: write`"."""
    raw = next(
        (str(v) for k, v in (headers or {}).items() if k.lower() == "x-accepted-github-permissions"), ""
    )
    options = [
        option.strip().replace("=", ": ").replace(",", ", ") for option in raw.split(";") if option.strip()
    ]
    return " or ".join(f"`{option}`" for option in options) or None


def _refusal(exc: GithubException, what: str, permission: str, repository: str) -> ReportError:
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or "")
    where = f"{what} on {repository}"
    if exc.status == 403:
        needed = _accepted_permissions(exc.headers) or f"`{permission}`"
        return ReportError(
            f"GitHub refused to {where} (HTTP 403: {message}); the token lacks {needed}; fix: grant it in "
            "the GitHub App's permissions, or in the job's `permissions:` block for github.token"
        )
    if exc.status == 404:
        return ReportError(
            f"could not {where}: not found (HTTP 404); check the repository, pull request or commit, "
            f"and that the token can see {repository} and has `{permission}`"
        )
    if exc.status == 401:
        return ReportError(f"GitHub rejected the credentials while trying to {where} (HTTP 401: {message})")
    errors = "; ".join(str(e.get("message") or e) for e in data.get("errors") or [] if isinstance(e, dict))
    detail = f"{message}: {errors}" if errors else message
    return ReportError(f"could not {where} (HTTP {exc.status}: {detail})")


class GitHubReporter:
    """Posts fluxpush results to one repository through an authenticated connection."""

    def __init__(
        self,
        connection: GitHubConnection,
        *,
        policy: RateLimitPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.connection = connection
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        self._repo: Repository = connection.github.get_repo(connection.repository)

    def _call(self, what: str, permission: str, call: Callable[[], T]) -> T:
        try:
            return call_with_rate_limit_retry(
                call, what, policy=self._policy, sleep=self._sleep, clock=self._clock
            )
        except GithubException as exc:
            raise _refusal(exc, what, permission, self.connection.repository) from None
        except requests.RequestException as exc:
            raise ReportError(f"could not {what}: GitHub API unreachable ({type(exc).__name__})") from exc

    def find_sticky_comment(self, number: int, cluster_path: str) -> IssueComment | None:
        """Our comment for `cluster_path` on PR `number`: marker line AND our bot as author, on any page."""
        marker = sticky_marker(cluster_path)
        bot = self.connection.bot_login
        issue = self._repo.get_issue(number)

        def scan() -> IssueComment | None:
            for comment in issue.get_comments():
                if (
                    comment.user is not None
                    and comment.user.login == bot
                    and _first_line(comment.body) == marker
                ):
                    return comment
            return None

        return self._call(f"list the comments of pull request #{number}", "pull_requests: read", scan)

    def upsert_sticky_comment(self, number: int, cluster_path: str, body: str) -> CommentResult:
        """Create our comment, or edit it in place; a body equal to the current one is not sent again."""
        marker = sticky_marker(cluster_path)
        body = redact(body)
        if _first_line(body) != marker:
            body = f"{marker}\n{body}"
        if size(body) > COMMENT_LIMIT:
            raise ReportError(
                f"comment for {cluster_path} is {size(body):,} bytes, over GitHub's {COMMENT_LIMIT:,} limit "
                "(build it with report.comment.build_comment, which truncates)"
            )
        existing = self.find_sticky_comment(number, cluster_path)
        if existing is None:
            issue = self._repo.get_issue(number)
            created = self._call(
                f"comment on pull request #{number}",
                "pull_requests: write",
                lambda: issue.create_comment(body),
            )
            return CommentResult(created.id, created.html_url, "created")
        if _same_body(existing.body, body):
            return CommentResult(existing.id, existing.html_url, "unchanged")
        self._call(f"edit comment {existing.id}", "pull_requests: write", lambda: existing.edit(body))
        return CommentResult(existing.id, existing.html_url, "updated")

    def upsert_pull_request(self, head: str, base: str, title: str, body: str) -> PullResult:
        """Open the pull request from branch `head` into `base`, or edit the open one (one per head)."""
        owner = self.connection.repository.split("/")[0]
        found = self._call(f"list the pull requests of {head}", "pull_requests: read",
                           lambda: next(iter(self._repo.get_pulls(state="open", head=f"{owner}:{head}",
                                                                  base=base)), None))
        if found is None:
            created = self._call(f"open a pull request from {head}", "pull_requests: write",
                                 lambda: self._repo.create_pull(base=base, head=head, title=title, body=body))
            return PullResult(created.number, created.html_url, "created")
        if found.title == title and _same_body(found.body, body):
            return PullResult(found.number, found.html_url, "unchanged")
        self._call(f"edit pull request #{found.number}", "pull_requests: write",
                   lambda: found.edit(title=title, body=body))
        return PullResult(found.number, found.html_url, "updated")

    def find_merged_pulls(self, sha: str, *, base: str | None = None) -> list[PullRef]:
        """The merged pull requests that brought `sha` in (into `base`, when given), exact merge first.

        GitHub may not have indexed a fresh merge yet, so an empty answer is asked again a few times.
        """
        commit = self._repo.get_commit(sha)
        waits = iter(PULLS_LOOKUP_WAITS)
        while True:
            pulls = self._call(
                f"list the pull requests of commit {sha[:12]}",
                "pull_requests: read",
                lambda: list(commit.get_pulls()),
            )
            merged = [p for p in pulls if p.merged_at is not None and (base is None or p.base.ref == base)]
            if merged:
                merged.sort(key=lambda p: (p.merge_commit_sha != sha, p.number))
                return [PullRef(p.number, p.html_url, p.merge_commit_sha) for p in merged]
            wait = next(waits, None)
            if wait is None:
                return []
            self._sleep(wait)

    def report_commit(
        self,
        sha: str,
        *,
        name: str,
        title: str,
        summary: str,
        conclusion: str | None,
        details_url: str | None = None,
        text: str | None = None,
        update: CommitReport | None = None,
    ) -> CommitReport:
        """A check run (App) or a commit status (token) named `name` on `sha`.

        `conclusion` None means still running (check run `in_progress`, status `pending`). Pass the
        report of the running state as `update` to complete that same check run; a commit status
        needs no such link (a new status with the same context replaces the old one).
        """
        if conclusion is not None and conclusion not in CONCLUSION_TO_STATE:
            raise ValueError(f"unknown check conclusion {conclusion!r}")
        if self.connection.is_app:
            run_id = update.id if update is not None and update.kind == "check_run" else None
            return self._check_run(sha, name, title, summary, conclusion, details_url, text, run_id)
        state = CONCLUSION_TO_STATE[conclusion] if conclusion else "pending"
        commit = self._repo.get_commit(sha)
        extra: dict[str, Any] = {"target_url": details_url} if details_url else {}
        status = self._call(
            f"set the commit status of {sha[:12]}",
            "statuses: write",
            lambda: commit.create_status(
                state, description=clip(title, DESCRIPTION_MAX), context=name, **extra
            ),
        )
        return CommitReport("status", status.id, status.url)

    def _check_run(
        self,
        sha: str,
        name: str,
        title: str,
        summary: str,
        conclusion: str | None,
        details_url: str | None,
        text: str | None,
        run_id: int | None,
    ) -> CommitReport:
        output = {"title": clip(title, 1000), "summary": clip(summary, CHECK_OUTPUT_MAX)}
        if text:
            output["text"] = clip(text, CHECK_OUTPUT_MAX)
        args: dict[str, Any] = {"output": output}
        if details_url:
            args["details_url"] = details_url
        if conclusion is None:
            args["status"] = "in_progress"
        else:
            args.update(
                status="completed",
                conclusion=conclusion,
                completed_at=datetime.fromtimestamp(self._clock(), UTC),
            )
        if run_id is not None:
            run = self._repo.get_check_run(run_id)  # lazy: no request until the edit
            self._call(f"update check run {run_id}", "checks: write", lambda: run.edit(name=name, **args))
        else:
            run = self._call(
                f"create check run {name!r} on {sha[:12]}",
                "checks: write",
                lambda: self._repo.create_check_run(name=name, head_sha=sha, **args),
            )
        return CommitReport("check_run", run.id, run.html_url)

    def create_deployment(
        self,
        sha: str,
        environment: str,
        *,
        description: str = "",
        payload: Mapping[str, Any] | None = None,
        production: bool | None = None,
    ) -> int:
        """A deployment of `sha` to `environment` that never merges and ignores other statuses; its id."""
        args: dict[str, Any] = {"production_environment": production} if production is not None else {}
        deployment = self._call(
            f"create a deployment to {environment}",
            "deployments: write",
            lambda: self._repo.create_deployment(
                ref=sha,
                environment=environment,
                description=clip(description, DESCRIPTION_MAX),
                payload=dict(payload or {}),
                auto_merge=False,
                required_contexts=[],
                transient_environment=False,
                **args,
            ),
        )
        return deployment.id

    def set_deployment_status(
        self,
        deployment_id: int,
        state: str,
        *,
        log_url: str | None = None,
        environment_url: str | None = None,
        description: str = "",
    ) -> int:
        """Add a status (`in_progress`, `success`, `failure`, …) to a deployment; returns its id."""
        if state not in DEPLOYMENT_STATES:
            raise ValueError(f"unknown deployment state {state!r}")
        body: dict[str, Any] = {"state": state, "description": clip(description, DESCRIPTION_MAX)}
        if log_url:
            body["log_url"] = log_url
        if environment_url:
            body["environment_url"] = environment_url
        requester = self.connection.github.requester
        url = f"/repos/{self.connection.repository}/deployments/{deployment_id}/statuses"
        _, data = self._call(
            f"set the status of deployment {deployment_id}",
            "deployments: write",
            lambda: requester.requestJsonAndCheck(
                "POST", url, input=body, headers={"Accept": _DEPLOYMENT_ACCEPT}
            ),
        )
        return int(data["id"])
