"""A plan as terminal text, the way `flux diff` reads: one `📁` line per node, a `►` line per changed
object, diffs under updates, a `Plan:` totals line; ANSI colours only when asked (a terminal), none
for logs. The CLI streams it; the action's job log groups it per node.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fluxpush.planning.plan import Action, NodePlan, ObjectChange, Plan

# What a run did to an object, in kubectl's words (`created`, `configured`, `deleted`): every face.
APPLIED_WORD = {Action.CREATE: "created", Action.UPDATE: "configured", Action.DELETE: "deleted"}
_LONG_HEX = re.compile(r"\b([0-9a-f]{8})[0-9a-f]{32,120}\b")  # the Flux CLI shows 8 of 40–128 hex
_COLORS = {"green": "32", "yellow": "33", "red": "31", "cyan": "36", "bold": "1", "dim": "2"}
_ACTION_WORD = {Action.CREATE: ("created", "green"), Action.UPDATE: ("drifted", "yellow"),
                Action.DELETE: ("deleted", "red"), Action.SKIP: ("skipped", "dim")}
_DIFF_COLOR = (("+++", "bold"), ("---", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def short_revision(revision: str) -> str:
    """`main@sha1:<40 hex>` → `main@sha1:<8 hex>`, as the Flux CLI shows revisions."""
    return _LONG_HEX.sub(r"\1", revision)


def _paint(text: str, color: str | None, enabled: bool) -> str:
    return f"\x1b[{_COLORS[color]}m{text}\x1b[0m" if enabled and color else text


def _diff_lines(diff: str, color: bool) -> list[str]:
    lines = []
    for line in diff.splitlines():
        tint = next((c for prefix, c in _DIFF_COLOR if line.startswith(prefix)), None)
        lines.append("  " + _paint(line, tint, color))
    return lines


def _node_state(node: NodePlan) -> tuple[str, str | None]:
    if node.error:
        return f"failed: {node.error}", "red"
    if node.blocked_by:
        return f"blocked by {', '.join(node.blocked_by)}", "yellow"
    return ("changed", "yellow") if node.has_changes else ("unchanged", None)


def change_lines(changes: Iterable[ObjectChange], color: bool) -> list[str]:
    """A `►` line per object that changes (diffs under updates); unchanged objects are left out."""
    lines: list[str] = []
    for change in changes:
        if change.action is Action.UNCHANGED:
            continue
        word, tint = _ACTION_WORD[change.action]
        why = f" ({change.reason})" if change.reason else ""
        lines.append(_paint(f"► {change.id} {word}", tint, color) + why)
        if change.action is Action.UPDATE:
            lines.extend(_diff_lines(change.diff, color))
    return lines


def node_lines(node: NodePlan, color: bool) -> list[str]:
    """One node's plan: its `📁` line, then its changes."""
    state, tint = _node_state(node)
    revision = f" ({short_revision(node.revision)})" if node.revision else ""
    target = f" → cluster of {node.cluster}" if node.cluster else ""
    return [_paint(f"📁 {node.node}{revision}{target} {state}", tint, color),
            *change_lines((*node.changes, *node.prune), color)]


def totals_line(plan: Plan, color: bool) -> str:
    """`Plan: 3 to create, …`: the plan's last line."""
    return _paint(f"Plan: {plan.totals}", "bold", color)


def render_text(plan: Plan, color: bool) -> str:
    """The plan for a terminal: one `📁` line per node, `►` lines per changed object, diffs, a summary."""
    lines = [line for node in plan.nodes for line in node_lines(node, color)]
    lines.append(totals_line(plan, color))
    return "\n".join(lines) + "\n"
