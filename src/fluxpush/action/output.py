"""Where the action's results go on the runner: the job log (one group per node), annotations for
repository problems, the plan file in the workspace, the step outputs and the room left in the step
summary. The text comes from `render`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fluxpush.action.modes import ModeResult
from fluxpush.action.render import MAX_ERROR_ANNOTATIONS, output_values, plan_file_name, problem_annotations
from fluxpush.planning.plan import Plan
from fluxpush.report.terminal import render_text
from fluxpush.report.workflow import MAX_STEP_SUMMARY_BYTES, WorkflowCommands, set_output
from fluxpush.repository.discover import Discovery

# Room left in the 1 MiB step summary for what other steps append.
SUMMARY_RESERVE = 64 * 1024
# Where the plan file goes, relative to the workspace (a folder that git ignores by its own .gitignore).
PLAN_DIR = ".fluxpush"


def summary_limit(path: str | None) -> int:
    """Bytes the job summary of this step may still take."""
    used = Path(path).stat().st_size if path and Path(path).exists() else 0
    return max(MAX_STEP_SUMMARY_BYTES - SUMMARY_RESERVE - used, 0)


def log_nodes(result: ModeResult, commands: WorkflowCommands) -> None:
    """One collapsible log group per node; its text (from the repository) cannot issue commands."""
    for node in result.nodes:
        with commands.group(f"{node.plan.node}: {node.result}"), commands.stop_commands():
            sys.stdout.write(render_text(Plan((node.plan,)), color=False))
            sys.stdout.flush()


def annotate_problems(discovery: Discovery, commands: WorkflowCommands) -> int:
    """`::error file=…,line=…::` for each repository problem (the first ten); returns how many there are."""
    annotations, count = problem_annotations(discovery)
    for note in annotations:
        commands.error(note.message, file=note.file, line=note.line, title=note.title)
    left = count - MAX_ERROR_ANNOTATIONS
    if left > 0:
        commands.notice(f"{left} more problems are not annotated; the log lists them all", title="fluxpush")
    return count


def write_plan_file(result: ModeResult, workspace: Path, cluster_path: str) -> str:
    """Write the plan JSON under the workspace; returns its path relative to the workspace."""
    folder = workspace / PLAN_DIR
    folder.mkdir(exist_ok=True)
    (folder / ".gitignore").write_text("*\n", encoding="utf-8")  # keeps the checkout clean
    relative = f"{PLAN_DIR}/{plan_file_name(cluster_path)}"
    (workspace / relative).write_text(result.plan.to_json() + "\n", encoding="utf-8")
    return relative


def write_outputs(result: ModeResult, cluster_path: str, plan_path: str, output_file: str) -> None:
    """The step outputs `changed`, `result`, `summary` and `plan-json`, appended to `output_file`."""
    for name, value in output_values(result, cluster_path, plan_path).items():
        set_output(name, value, output_file)
