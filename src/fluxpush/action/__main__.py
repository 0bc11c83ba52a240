"""`python -m fluxpush.action`: the GitHub Action's entry point (the container runs it).

Exit codes: 0 the run did what it should (a preview with changes included), 1 a node failed, the
repository has problems, or the cluster could not be reached, 2 invalid inputs or GitHub setup,
143/130 interrupted by SIGTERM/SIGINT (the report still says what was and was not applied).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path

from fluxpush.action.config import ActionConfig, read_config
from fluxpush.action.events import RunContext, read_context
from fluxpush.action.handback import hand_back
from fluxpush.action.modes import ModeResult, resolve_mode, run_mode
from fluxpush.action.output import annotate_problems, log_nodes, summary_limit, write_outputs, write_plan_file
from fluxpush.action.publish import Publisher
from fluxpush.action.render import (
    digest_marker,
    preview_note,
    previewed_digest,
    render_markdown,
    status_line,
    summary_line,
)
from fluxpush.app.request import run_settings
from fluxpush.engine.planfile import plan_digest
from fluxpush.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, FluxpushError, ReportError, UsageError
from fluxpush.kube.stop import StopSwitch, stop_on_signals
from fluxpush.redact import on_secret, redacting_streams, register_environment_secrets, register_secrets
from fluxpush.report.comment import COMMENT_LIMIT, fence_for, sticky_marker
from fluxpush.report.github import CHECK_OUTPUT_MAX
from fluxpush.report.github_app import ClientOptions
from fluxpush.report.workflow import WorkflowCommands, append_step_summary, set_output


def _report(
    result: ModeResult,
    config: ActionConfig,
    context: RunContext,
    publisher: Publisher,
    env: Mapping[str, str],
) -> None:
    commands = publisher.commands
    annotate_problems(result.discovery, commands)
    log_nodes(result, commands)
    plan_path = write_plan_file(result, context.workspace, config.cluster_path)
    note = _compare_with_previews(result, publisher)
    summary_file = env.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        full = render_markdown(
            result,
            context,
            config.cluster_path,
            limit=summary_limit(summary_file),
            full_plan=f"the plan file `{plan_path}` (output `plan-json`)",
            note=note,
        )
        append_step_summary(full, summary_file)
    where = f"the [job summary]({context.run_url})" if context.run_url else "the job summary"
    comment = render_markdown(
        result, context, config.cluster_path, limit=COMMENT_LIMIT - 128, full_plan=f"{where} of this run",
        note=note,
    )
    check = render_markdown(
        result, context, config.cluster_path, limit=CHECK_OUTPUT_MAX, full_plan=f"{where} of this run",
        note=note,
    )
    publisher.finish(result, status_line(result), check, comment)
    output_file = env.get("GITHUB_OUTPUT")
    if output_file:
        write_outputs(result, config.cluster_path, plan_path, output_file)
    print(summary_line(result, config.cluster_path), flush=True)


def _compare_with_previews(result: ModeResult, publisher: Publisher) -> str:
    """A preview's comment carries its plan digest; a deploy compares its own with the last preview of
    each merged pull request, says how in its note, and keeps that preview's digest in its comment."""
    digest = plan_digest(result.plan, result.discovery)
    if result.mode == "plan":
        publisher.hidden = {number: digest_marker(digest) for number in publisher.pull_numbers()}
        return ""
    if result.mode != "apply" or not result.applies:
        return ""
    previews = {number: previewed_digest(body) for number, body in publisher.sticky_bodies().items()}
    publisher.hidden = {number: digest_marker(found) for number, found in previews.items() if found}
    return preview_note(digest, previews)


def _report_error(message: str, config: ActionConfig, publisher: Publisher, env: Mapping[str, str]) -> None:
    publisher.commands.error(message, title="fluxpush")
    title = f"❌ fluxpush {publisher.mode} failed: {message.splitlines()[0]}"
    fence = fence_for(message)
    body = (
        f"{sticky_marker(config.cluster_path)}\n### fluxpush · `{config.cluster_path}`\n\n{title}\n\n"
        f"{fence}\n{message}\n{fence}\n"
    )
    publisher.finish(None, title, body, body)
    output_file = env.get("GITHUB_OUTPUT")
    if output_file:
        for name, value in (
            ("changed", "false"),
            ("result", "failure"),
            ("summary", title),
            ("plan-json", ""),
        ):
            set_output(name, value, output_file)


def main(environ: Mapping[str, str] | None = None, *, client_options: ClientOptions | None = None) -> int:
    """Run the action from the runner's environment; returns the exit code.

    Every secret value fluxpush learns (inputs now, Secrets read during the run later) is announced
    with `::add-mask::` the moment it is registered, and masked in all that the action prints.
    """
    env = os.environ if environ is None else environ
    commands = WorkflowCommands()
    on_secret(commands.add_mask)
    with redacting_streams():
        return _run(env, commands, client_options)


def _run(env: Mapping[str, str], commands: WorkflowCommands, client_options: ClientOptions | None) -> int:
    try:
        register_environment_secrets(env)
        config = read_config(env)
        register_secrets(config.secrets)
        context = read_context(env)
        mode = resolve_mode(config, context)
        if mode == "image-update":  # commits and pull requests, not a deploy: its own face
            from fluxpush.action.image_update import run_image_update

            return run_image_update(config, context, env, commands, client_options or ClientOptions())
        publisher = Publisher.connect(config, context, mode, commands, client_options or ClientOptions())
    except (UsageError, ReportError) as exc:
        commands.error(str(exc), title="fluxpush: setup")
        return EXIT_USAGE
    publisher.start()
    try:
        with stop_on_signals(StopSwitch()) as switch:
            result = run_mode(mode, config, context, run_settings(env), commands, switch)
    except FluxpushError as exc:
        _report_error(str(exc), config, publisher, env)
        return EXIT_FAILED
    except Exception as exc:  # a bug: still complete the check and the deployment as failed
        traceback.print_exc()
        _report_error(f"internal error ({type(exc).__name__}): {exc}", config, publisher, env)
        return EXIT_FAILED
    _report(result, config, context, publisher, env)
    if result.interrupted:
        return switch.exit_code
    return EXIT_OK if result.ok else EXIT_FAILED


if __name__ == "__main__":
    try:
        code = main()
    finally:
        hand_back(Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd()))
    sys.exit(code)
