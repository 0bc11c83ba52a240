"""What an automation plan changes, as text both faces show: the `git diff` of its files and one
`path: Kind/name: old → new` line per changed field."""

from __future__ import annotations

import difflib

from fluxpush.images.automation import AutomationPlan


def _lines(text: str) -> list[str]:
    """`text` split for a diff; a last line without a newline is marked as `git diff` does."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def unified_diff(plan: AutomationPlan) -> str:
    """The files an automation changes, as `git diff` would show them."""
    return "".join("".join(difflib.unified_diff(_lines(update.before), _lines(update.after),
                                               f"a/{update.path}", f"b/{update.path}"))
                   for update in plan.result.files)


def changes_lines(plan: AutomationPlan) -> list[str]:
    """`path: Kind/name: old → new` for each change."""
    return [f"{update.path}: {obj}: {change.old} → {change.new}"
            for update in plan.result.files for obj, change in update.changes]
