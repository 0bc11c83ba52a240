"""A ModeResult in GitHub's words: comment rows and sections, status and summary lines, the step
outputs' values, annotations for repository problems and the plan file's name.

Everything here is plain text (or values); writing the log, annotations, files and outputs is
`output`'s job, posting it is `publish`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fluxpush.action.events import RunContext
from fluxpush.action.modes import ModeResult, NodeReport
from fluxpush.errors import FluxpushError, InputError, RenderError
from fluxpush.planning.plan import Action, NodePlan, ObjectChange, Plan
from fluxpush.report.comment import CommentHeader, DiffBlock, Section, SummaryRow, build_comment
from fluxpush.repository.discover import Discovery

MODE_WORDS = {"plan": "preview", "apply": "deploy", "reconcile": "reconcile"}
PAST_WORDS = {"apply": "deployed", "reconcile": "reconciled"}
ACTION_WORDS = {Action.CREATE: "➕ create", Action.UPDATE: "✏️ change", Action.DELETE: "🗑️ delete"}
# The step outputs action.yml declares, in the order they are written.
OUTPUT_NAMES = ("changed", "result", "summary", "plan-json")
# The runner shows at most 10 error annotations per step; the rest are listed in the log only.
MAX_ERROR_ANNOTATIONS = 10
_DIGEST_MARKER = re.compile(r"<!-- fluxpush-plan-digest: (sha256:[0-9a-f]{64}) -->")


def result_word(result: ModeResult) -> str:
    """The `result` output: `failure`, `no-op` (nothing changed or would change) or `success`."""
    if not result.ok:
        return "failure"
    return "success" if result.changed else "no-op"


def _counts(plan: Plan) -> str:
    totals = plan.totals
    return f"{totals.create} to create, {totals.update} to change, {totals.delete} to delete"


def status_line(result: ModeResult) -> str:
    """The comment's and check run's headline, e.g. `📝 preview: 1 to create, 2 to change, 0 to delete`."""
    word = MODE_WORDS[result.mode] + (" (dry run)" if result.dry_run else "")
    failed = [n for n in result.nodes if n.failed]
    if result.interrupted:
        return (f"⏹️ {word} interrupted by {result.interrupted}: {len(result.nodes) - len(failed)} of "
                f"{len(result.nodes)} nodes done, {result.writes} writes; run it again to converge")
    problems = len(result.discovery.problems)
    if failed or problems:
        found = f", {problems} problems in the repository" if problems else ""
        return f"❌ {word} failed: {len(failed)} of {len(result.nodes)} nodes not ready{found}"
    if result.applies:
        done = PAST_WORDS[result.mode]
        return (
            f"✅ {done}: {result.writes} writes" if result.writes else f"✅ {word}: in sync, nothing applied"
        )
    return f"📝 {word}: {_counts(result.plan)}" if result.changed else f"✅ {word}: no changes"


def summary_line(result: ModeResult, cluster_path: str) -> str:
    """The one-line `summary` output."""
    return f"{cluster_path}: {status_line(result)} (against {result.against})"


def _title(change: ObjectChange) -> str:
    return f"{ACTION_WORDS[change.action]} {change.id}"


def _object_diff(change: ObjectChange) -> DiffBlock:
    note = f"# {change.reason}\n" if change.reason else ""
    return DiffBlock(_title(change), note + change.diff if (note or change.diff) else "# (no diff shown)")


def _is_loud(change: ObjectChange) -> bool:
    return change.action is Action.DELETE or change.reason.startswith("recreated")


def node_label(plan: NodePlan) -> str:
    """The node's name, and the cluster it targets when that is not this one (spec.kubeConfig)."""
    return f"{plan.node} → cluster of {plan.cluster}" if plan.cluster else str(plan.node)


def comment_rows(result: ModeResult) -> list[SummaryRow]:
    """One summary-table row per node."""
    rows = []
    for node in result.nodes:
        totals = node.plan.totals
        rows.append(SummaryRow(node_label(node.plan), totals.create, totals.update, totals.delete,
                               node.result))
    return rows


def _section(node: NodeReport) -> Section | None:
    shown = [c for c in (*node.plan.changes, *node.plan.prune) if c.action in ACTION_WORDS]
    changes = sorted(shown, key=lambda c: not _is_loud(c))  # deletions and replacements first
    if node.plan.error:
        error = DiffBlock("❌ error", "\n".join(f"- {line}" for line in node.plan.error.splitlines()))
        sections = (error, *map(_object_diff, changes))
        return Section(node_label(node.plan), sections, any(map(_is_loud, changes)))
    if not changes:
        return None
    return Section(node_label(node.plan), tuple(map(_object_diff, changes)), any(map(_is_loud, changes)))


def comment_sections(result: ModeResult) -> list[Section]:
    """One collapsible section per node that changes something or failed."""
    return [section for node in result.nodes if (section := _section(node)) is not None]


def digest_marker(digest: str) -> str:
    """The hidden line a preview's comment carries: the digest of its plan (`planfile.plan_digest`)."""
    return f"<!-- fluxpush-plan-digest: {digest} -->\n"


def previewed_digest(body: str | None) -> str | None:
    """The plan digest a sticky comment carries, or None."""
    found = _DIGEST_MARKER.search(body or "")
    return found.group(1) if found else None


def preview_note(digest: str, previews: dict[int, str | None]) -> str:
    """How a deploy's plan compares with the last preview of each merged pull request ("" without any)."""
    lines = []
    for number, previewed in sorted(previews.items()):
        if previewed is None:
            lines.append(f"ℹ️ #{number} has no fluxpush preview to compare this deploy with.")
        elif previewed == digest:
            lines.append(f"🔁 Applied exactly what the last preview of #{number} showed "
                         f"(plan digest `{digest[7:19]}`).")
        else:
            lines.append(f"⚠️ What was applied differs from the last preview of #{number} (preview "
                         f"`{previewed[7:19]}`, applied `{digest[7:19]}`): the objects rendered or the "
                         "deletions changed since that preview (another merge, or a changed cluster).")
    return "\n".join(lines)


def render_markdown(
    result: ModeResult,
    context: RunContext,
    cluster_path: str,
    *,
    limit: int,
    full_plan: str,
    note: str = "",
) -> str:
    """The comment (or job summary) markdown for a result, at most `limit` bytes."""
    header = CommentHeader(
        status=f"{status_line(result)} · against {result.against}",
        commit=context.sha,
        cluster_path=cluster_path,
        run_url=context.run_url,
        commit_url=context.commit_url(context.sha),
        note=note,
    )
    return build_comment(
        header, comment_rows(result), comment_sections(result), full_plan=full_plan, limit=limit
    )


def _origin_of(problem: FluxpushError, discovery: Discovery) -> tuple[str | None, int | None]:
    if isinstance(problem, InputError) and problem.origin is not None:
        return problem.origin.path, problem.origin.line
    name = problem.node if isinstance(problem, RenderError) else None
    node = next((n for ref, n in discovery.nodes.items() if str(ref) == name), None)
    origin = node.spec.origin if node is not None else None
    return (origin.path, origin.line) if origin is not None else (None, None)


def _problem_title(problem: FluxpushError) -> str:
    obj = getattr(problem, "obj", None) or getattr(problem, "node", None)
    return f"fluxpush: {obj}" if obj else "fluxpush"


def _problem_message(problem: FluxpushError) -> str:
    if isinstance(problem, InputError):
        parts = [problem.field, problem.message] if problem.field else [problem.message]
        text = ": ".join(parts)
        return f"{text} (fix: {problem.hint})" if problem.hint else text
    return str(problem)


@dataclass(frozen=True, slots=True)
class ProblemAnnotation:
    """An `::error` annotation for one repository problem, placed on its file and line when known."""

    message: str
    title: str
    file: str | None = None
    line: int | None = None


def problem_annotations(discovery: Discovery) -> tuple[list[ProblemAnnotation], int]:
    """The annotations for the first ten repository problems, and how many problems there are."""
    problems = list(dict.fromkeys(discovery.problems))
    annotations = []
    for problem in problems[:MAX_ERROR_ANNOTATIONS]:
        file, line = _origin_of(problem, discovery)
        annotations.append(ProblemAnnotation(_problem_message(problem), _problem_title(problem), file, line))
    return annotations, len(problems)


def plan_file_name(cluster_path: str) -> str:
    """`clusters/dev` → `plan-clusters-dev.json`."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", cluster_path.strip("/.")).strip("-") or "root"
    return f"plan-{slug}.json"


def output_values(result: ModeResult, cluster_path: str, plan_path: str) -> dict[str, str]:
    """The step outputs `changed`, `result`, `summary` and `plan-json`, in `OUTPUT_NAMES` order."""
    values = (
        "true" if result.changed else "false",
        result_word(result),
        summary_line(result, cluster_path),
        plan_path,
    )
    return dict(zip(OUTPUT_NAMES, values, strict=True))
