"""Posting a run to GitHub: a check run (App) or commit status (token), a deployment with statuses
when the run writes to the cluster, and the sticky comment on the pull request(s) concerned.

Reporting never changes a deploy's outcome: once connected, a refused or rate-limited call becomes
a `::warning::` and the run goes on. Only a setup error (the App not installed, a permission
missing, bad credentials) stops the run, before the cluster is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fluxpush.action.config import ActionConfig
from fluxpush.action.events import RunContext, pulls_named_in_message
from fluxpush.action.modes import ModeResult
from fluxpush.action.render import MODE_WORDS
from fluxpush.errors import ReportError
from fluxpush.report.github import CommitReport, GitHubReporter
from fluxpush.report.github_app import (
    DEPLOY_PERMISSIONS,
    PREVIEW_PERMISSIONS,
    ClientOptions,
    connect_app,
    connect_token,
)
from fluxpush.report.workflow import WorkflowCommands

T = TypeVar("T")


def check_name(mode: str, cluster_path: str) -> str:
    """The check run's (or commit status context's) name, one per mode and cluster path."""
    return f"fluxpush {MODE_WORDS[mode]} ({cluster_path})"


def should_comment(policy: str, result: ModeResult | None, has_comment: bool) -> bool:
    """The `comment` input: `never`, `always`, or `on-change` (changes, failures, or a comment to update)."""
    if policy == "never":
        return False
    if policy == "always" or result is None or has_comment:
        return True
    return result.changed or not result.ok


class Publisher:
    """Reports one run of the action to GitHub (or only warns, without credentials)."""

    def __init__(
        self,
        reporter: GitHubReporter | None,
        config: ActionConfig,
        context: RunContext,
        mode: str,
        commands: WorkflowCommands,
    ) -> None:
        self.reporter = reporter
        self.config = config
        self.context = context
        self.mode = mode
        self.commands = commands
        self.check: CommitReport | None = None
        self.deployment_id: int | None = None
        self._pulls: list[int] | None = None
        self.hidden: dict[int, str] = {}  # per pull request: hidden lines its comment carries

    @classmethod
    def connect(
        cls,
        config: ActionConfig,
        context: RunContext,
        mode: str,
        commands: WorkflowCommands,
        options: ClientOptions,
    ) -> Publisher:
        """Authenticate (App first, then token); a ReportError says what to fix."""
        permissions = PREVIEW_PERMISSIONS if mode == "plan" else DEPLOY_PERMISSIONS
        if config.github_app_id and config.github_app_private_key:
            connection = connect_app(
                context.repository,
                config.github_app_id,
                config.github_app_private_key,
                permissions=permissions,
                api_url=context.api_url,
                options=options,
                commands=commands,
            )
        elif config.github_token:
            connection = connect_token(
                context.repository,
                config.github_token,
                api_url=context.api_url,
                options=options,
                commands=commands,
            )
        else:
            commands.warning(
                "neither github-app-id nor github-token is set: results go to the log and job summary only",
                title="fluxpush",
            )
            return cls(None, config, context, mode, commands)
        return cls(GitHubReporter(connection), config, context, mode, commands)

    def _safely(self, what: str, call: Callable[[GitHubReporter], T]) -> T | None:
        if self.reporter is None:
            return None
        try:
            return call(self.reporter)
        except ReportError as exc:
            self.commands.warning(f"{what}: {exc}", title="fluxpush: GitHub report")
            return None

    @property
    def _writes(self) -> bool:
        return self.mode != "plan" and not self.config.dry_run

    def start(self) -> None:
        """Mark the head commit as in progress; open a deployment when the run writes."""
        name = check_name(self.mode, self.config.cluster_path)
        self.check = self._safely(
            "starting the check",
            lambda r: r.report_commit(
                self.context.sha,
                name=name,
                title=f"{MODE_WORDS[self.mode]} running",
                summary="fluxpush is running",
                conclusion=None,
                details_url=self.context.run_url,
            ),
        )
        if not self._writes:
            return
        payload = {"cluster_path": self.config.cluster_path, "mode": self.mode, "run": self.context.run_url}
        self.deployment_id = self._safely(
            "creating the deployment",
            lambda r: r.create_deployment(
                self.context.sha,
                self.config.environment,
                description=f"fluxpush {self.mode}",
                payload=payload,
            ),
        )
        self._deployment_status("in_progress", f"fluxpush is applying {self.config.cluster_path}")

    def _deployment_status(self, state: str, description: str) -> None:
        deployment = self.deployment_id
        if deployment is None:
            return
        self._safely(
            "setting the deployment status",
            lambda r: r.set_deployment_status(
                deployment, state, log_url=self.context.run_url, description=description
            ),
        )

    def finish(self, result: ModeResult | None, title: str, summary: str, comment: str) -> None:
        """Complete the check and the deployment, and post the comment where it belongs.

        `result` None means the run stopped with an error before it had one (`title` says why).
        """
        ok = result is not None and result.ok
        self._safely(
            "completing the check",
            lambda r: r.report_commit(
                self.context.sha,
                name=check_name(self.mode, self.config.cluster_path),
                title=title,
                summary=summary,
                conclusion="success" if ok else "failure",
                details_url=self.context.run_url,
                update=self.check,
            ),
        )
        self._deployment_status("success" if ok else "failure", title)
        for number in self.pull_numbers():
            self.comment(number, result, comment)

    def pull_numbers(self) -> list[int]:
        """The pull requests to comment on: the PR previewed, or the PRs a pushed merge brought in
        (asked once per run)."""
        if self._pulls is None:
            self._pulls = self._find_pulls()
        return self._pulls

    def sticky_bodies(self) -> dict[int, str | None]:
        """The body of our comment on each pull request to comment on (None: no comment)."""
        return {number: self._sticky_body(number) for number in self.pull_numbers()}

    def _sticky_body(self, number: int) -> str | None:
        path = self.config.cluster_path
        found = self._safely("reading the comments", lambda r: r.find_sticky_comment(number, path))
        return found.body if found is not None else None

    def _find_pulls(self) -> list[int]:
        pull = self.context.pull_request
        if pull is not None:
            return [pull.number]
        if self.context.event_name != "push":
            return []
        found = self._safely(
            "finding the merged pull requests",
            lambda r: r.find_merged_pulls(self.context.sha, base=self.context.default_branch),
        )
        numbers = [p.number for p in found or []]
        return numbers or pulls_named_in_message(self.context.head_commit_message)

    def comment(self, number: int, result: ModeResult | None, body: str) -> None:
        """Create or update the sticky comment on pull request `number` as the `comment` input says."""
        policy = self.config.comment
        if policy == "never":
            return
        path = self.config.cluster_path
        has_comment = policy == "on-change" and bool(
            self._safely("reading the comments", lambda r: r.find_sticky_comment(number, path))
        )
        if not should_comment(policy, result, has_comment):
            return
        body += self.hidden.get(number, "")
        posted = self._safely("posting the comment", lambda r: r.upsert_sticky_comment(number, path, body))
        if posted is not None:
            print(f"comment {posted.action} on #{number}: {posted.url}", flush=True)
