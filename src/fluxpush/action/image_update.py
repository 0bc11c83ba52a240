"""The action's `image-update` mode (scheduled, or on `registry_package`/`repository_dispatch`).

For each ImageUpdateAutomation of the checkout with changes: commit as the automation says, push the
commit with the App's (or the given) token, and, when `git.push.branch` differs from the checkout
branch, open or update that branch's one pull request (sticky: found by its head branch), listing
old → new images. An automation without a push branch commits to the checkout branch directly.
`dry-run: true` prints the diffs and pushes nothing. The App needs `contents: write` (push) and
`pull_requests: write` (the pull request).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

from fluxpush.action.config import ActionConfig
from fluxpush.action.events import RunContext
from fluxpush.action.modes import cluster_target
from fluxpush.action.render import OUTPUT_NAMES
from fluxpush.app.cluster import open_cluster
from fluxpush.app.lookups import live_variable_lookup
from fluxpush.app.request import CheckoutRequest, discover_checkout, run_settings
from fluxpush.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, FluxpushError, ReportError, UsageError
from fluxpush.flux.model import ObjectLookup
from fluxpush.images.automation import AutomationPlan
from fluxpush.images.diff import changes_lines, unified_diff
from fluxpush.images.git import commit_updates, current_branch, push_commit, push_remote
from fluxpush.images.repository import TagSource
from fluxpush.images.run import ImageRun, prepare, secret_lookup
from fluxpush.report.comment import COMMENT_LIMIT
from fluxpush.report.github import GitHubReporter, clip
from fluxpush.report.github_app import ClientOptions, GitHubConnection, connect_app, connect_token
from fluxpush.report.workflow import WorkflowCommands, append_step_summary, set_output

IMAGE_UPDATE_PERMISSIONS: Mapping[str, str] = {"contents": "write", "pull_requests": "write"}


def pull_marker(plan: AutomationPlan) -> str:
    """The first line of an automation's pull request body."""
    return f"<!-- fluxpush:image-update {plan.ref.namespace}/{plan.ref.name} -->"


MAX_ROWS = 300  # a pull request body is capped at 65,536 characters; the commit has every change


def pull_body(plan: AutomationPlan, commit_sha: str) -> str:
    """The pull request's body: the images old → new, the files, the commit message, the warnings."""
    rows = [f"| `{u.path}` | {obj.kind} {obj.name} | `{c.old}` | `{c.new}` |"
            for u in plan.result.files for obj, c in u.changes]
    if len(rows) > MAX_ROWS:
        rows = [*rows[:MAX_ROWS], f"| … and {len(rows) - MAX_ROWS} more changes in the commit | | | |"]
    policies = [f"- `{p.ref.namespace}/{p.ref.name}`: `{p.latest}` ({p.why})" for p in plan.policies]
    parts = [pull_marker(plan), f"### Image updates from ImageUpdateAutomation `{plan.ref.namespace}/"
             f"{plan.ref.name}`", "", "| File | Object | Old | New |", "|---|---|---|---|", *rows, "",
             "Policies:", *policies, "", f"Commit `{commit_sha[:12]}`:", "```", plan.message, "```"]
    parts += ["", "Warnings:", *[f"- {w}" for w in plan.warnings]] if plan.warnings else []
    return clip("\n".join(parts) + "\n", COMMENT_LIMIT)


def _connect(config: ActionConfig, context: RunContext, commands: WorkflowCommands,
             options: ClientOptions) -> GitHubConnection:
    if config.github_app_id and config.github_app_private_key:
        return connect_app(context.repository, config.github_app_id, config.github_app_private_key,
                           permissions=IMAGE_UPDATE_PERMISSIONS, api_url=context.api_url, options=options,
                           commands=commands)
    if config.github_token:
        return connect_token(context.repository, config.github_token, api_url=context.api_url,
                             options=options, commands=commands)
    raise UsageError("mode image-update pushes commits: give github-app-id and github-app-private-key "
                     "(an App with contents: write and pull_requests: write) or github-token")


def _token(connection: GitHubConnection) -> str:
    """The token git pushes with (the installation token, refreshed by its auth when near expiry)."""
    auth = connection.github.requester.auth
    if auth is None or not hasattr(auth, "token"):
        raise ReportError("the GitHub connection has no token to push with")
    return str(auth.token)


class _Delivery:
    """Commits, pushes and opens pull requests for one run's plans."""

    def __init__(self, config: ActionConfig, context: RunContext, connection: GitHubConnection,
                 commands: WorkflowCommands) -> None:
        self.config, self.context, self.commands = config, context, commands
        self.reporter = GitHubReporter(connection)
        self.connection = connection
        self.lines: list[str] = []

    def deliver(self, plan: AutomationPlan) -> None:
        for warning in plan.warnings:
            self.commands.warning(warning, title=f"fluxpush image-update: {plan.ref}")
        if not plan.changed:
            self.lines.append(f"- `{plan.ref}`: up to date")
            return
        if self.config.dry_run:
            print(unified_diff(plan), end="")
            files = len(plan.result.files)
            self.lines.append(f"- `{plan.ref}`: would push {files} file(s) to `{plan.branch}`")
            return
        root = self.context.workspace
        commit = commit_updates(root, plan.result.files, plan.message, (plan.author_name, plan.author_email),
                                plan.branch, plan.checkout_branch)
        remote = push_remote(self.context.server_url, self.context.repository, _token(self.connection))
        for option in remote[1][1::2]:
            self.commands.add_mask(option.split("Basic ", 1)[-1])
        separate = plan.branch != plan.checkout_branch
        push_commit(root, commit, remote, force=separate)
        if not separate:
            self.lines.append(f"- `{plan.ref}`: pushed {commit.sha[:12]} to `{plan.branch}`")
            return
        title = f"Update images ({plan.ref.namespace}/{plan.ref.name})"
        pull = self.reporter.upsert_pull_request(plan.branch, plan.checkout_branch, title,
                                                 pull_body(plan, commit.sha))
        self.lines.append(f"- `{plan.ref}`: pushed {commit.sha[:12]} to `{plan.branch}`, pull request "
                          f"#{pull.number} {pull.action}: {pull.url}")


def _finish(run: ImageRun, lines: list[str], env: Mapping[str, str], failed: list[str]) -> int:
    problems = [f"{p.ref}: {p.error}" for p in run.policies if p.error] + run.failures + failed
    changes = [f"  - {line}" for plan in run.plans for line in changes_lines(plan)]
    summary = "\n".join(["### fluxpush image-update", "", *lines, *changes,
                         *[f"- ❌ {p}" for p in problems]]) + "\n"
    print(summary)
    if env.get("GITHUB_STEP_SUMMARY"):
        append_step_summary(summary, env["GITHUB_STEP_SUMMARY"])
    if env.get("GITHUB_OUTPUT"):
        changed = any(plan.changed for plan in run.plans)
        first = lines[0] if lines else "no ImageUpdateAutomation"
        values = ("true" if changed else "false", "failure" if problems else "success", first, "")
        for name, value in zip(OUTPUT_NAMES, values, strict=True):
            set_output(name, value, env["GITHUB_OUTPUT"])
    return EXIT_FAILED if problems else EXIT_OK


def run_image_update(config: ActionConfig, context: RunContext, env: Mapping[str, str],
                     commands: WorkflowCommands, options: ClientOptions) -> int:
    """The image-update mode from start to exit code."""
    try:
        connection = _connect(config, context, commands, options)
    except (UsageError, ReportError) as exc:
        commands.error(str(exc), title="fluxpush: setup")
        return EXIT_USAGE
    root = Path(context.workspace)
    try:
        with ExitStack() as stack:
            live: ObjectLookup | None = None
            if config.has_cluster_credentials:  # secretRef Secrets the repository does not hold
                live = live_variable_lookup(stack.enter_context(open_cluster(cluster_target(config, root))))
            discovery = discover_checkout(CheckoutRequest(root, config.cluster_path), run_settings(env))
            run = prepare(discovery, TagSource(secret_lookup(discovery, live)), root,
                          current_branch(root) or context.default_branch)
    except FluxpushError as exc:
        commands.error(str(exc), title="fluxpush image-update")
        return EXIT_FAILED
    delivery = _Delivery(config, context, connection, commands)
    failed = []
    for plan in run.plans:
        try:
            delivery.deliver(plan)
        except FluxpushError as exc:
            commands.error(f"{plan.ref}: {exc}", title="fluxpush image-update")
            failed.append(f"{plan.ref}: {exc}")
    return _finish(run, delivery.lines, env, failed)
