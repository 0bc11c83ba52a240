"""The markdown of a preview/deploy comment, built from plain rows and sections, within GitHub's limit.

The body is: hidden sticky marker, a header (status, cluster path, commit, run link), a summary table
(node / create / change / delete / result), a warning when anything is deleted or replaced, then one
`<details>` per section (node) holding one `<details>` per object with a ```` ```diff ```` block.
Sections flagged `loud` (deletions, replacements) come first and are open by default.

When the whole body does not fit, whole objects are left out (never half a diff), every block that was
opened is closed, and a note says what was left out and where the full plan is.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

# GitHub refuses an issue comment longer than this (422 "Body is too long (maximum is 65536 characters)").
# We count UTF-8 bytes, never fewer than characters, so the count is safe whichever unit GitHub uses.
COMMENT_LIMIT = 65_536
# Kept free for the note that lists what was left out.
NOTE_RESERVE = 4_096
# Header fields longer than this are clipped: they are one-liners, and the diffs need the room.
HEADER_FIELD_MAX = 200
# At most this many names in the deletion warning and in the "left out" list.
MAX_NAMES_LISTED = 30


@dataclass(frozen=True, slots=True)
class CommentHeader:
    """Provenance of the comment: status line, commit, cluster path and links."""

    status: str
    commit: str
    cluster_path: str
    run_url: str | None = None
    commit_url: str | None = None
    note: str = ""  # a paragraph under the commit line (e.g. how a deploy compares with its preview)


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One row of the summary table."""

    node: str
    create: int
    change: int
    delete: int
    result: str


@dataclass(frozen=True, slots=True)
class DiffBlock:
    """One object's change: a title such as `Deployment podinfo/podinfo` and its unified diff."""

    title: str
    diff: str


@dataclass(frozen=True, slots=True)
class Section:
    """One node's objects; `loud` marks sections that delete or replace something."""

    title: str
    objects: tuple[DiffBlock, ...] = ()
    loud: bool = False


def sticky_marker(cluster_path: str) -> str:
    """The hidden first line that identifies our comment for one cluster path."""
    return f"<!-- fluxpush:{quote(cluster_path, safe='/')} -->"


def size(text: str) -> int:
    """How much of the comment budget `text` uses (UTF-8 bytes)."""
    return len(text.encode("utf-8"))


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run in `text`, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def inline_code(text: str) -> str:
    """`text` as a markdown code span that survives backticks and pipes inside it."""
    flat = " ".join(text.split()).replace("|", "\\|")
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def _clip(text: str, limit: int = HEADER_FIELD_MAX) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _cell(text: str) -> str:
    return html.escape(_clip(text)).replace("|", "\\|")


def _render_header(header: CommentHeader) -> str:
    short = _clip(header.commit)[:12]
    commit = f"[`{short}`]({header.commit_url})" if header.commit_url else f"`{short}`"
    run = f" · [workflow run]({header.run_url})" if header.run_url else ""
    return (
        f"{sticky_marker(header.cluster_path)}\n"
        f"### fluxpush · {inline_code(_clip(header.cluster_path))} · {_cell(header.status)}\n\n"
        f"Commit {commit}{run}\n\n"
        + (f"{header.note}\n\n" if header.note else "")
    )


def _render_table(rows: Sequence[SummaryRow], budget: int) -> str:
    if not rows:
        return ""
    lines = ["| Node | ➕ create | ✏️ change | 🗑️ delete | Result |", "|---|---:|---:|---:|---|"]
    used = sum(size(line) + 1 for line in lines)
    for shown, row in enumerate(rows):
        counts = f"{row.create} | {row.change} | {row.delete}"
        line = f"| {inline_code(_clip(row.node))} | {counts} | {_cell(row.result)} |"
        if used + size(line) + 1 > budget:
            lines.append(f"| … | | | | {len(rows) - shown} more nodes |")
            break
        lines.append(line)
        used += size(line) + 1
    total = [sum(r.create for r in rows), sum(r.change for r in rows), sum(r.delete for r in rows)]
    lines.append(f"| **Total** | {total[0]} | {total[1]} | {total[2]} | |")
    return "\n".join(lines) + "\n\n"


def _name_list(names: Sequence[str]) -> str:
    listed = ", ".join(inline_code(_clip(name)) for name in names[:MAX_NAMES_LISTED])
    rest = len(names) - MAX_NAMES_LISTED
    return f"{listed} and {rest} more" if rest > 0 else listed


def _render_warning(sections: Sequence[Section]) -> str:
    loud = [s.title for s in sections if s.loud]
    if not loud:
        return ""
    return f"> [!WARNING]\n> Objects will be deleted or replaced in {_name_list(loud)}.\n\n"


def render_object(obj: DiffBlock) -> str:
    """One object: a collapsed `<details>` with its diff in a fence the diff cannot break."""
    diff = obj.diff.rstrip("\n")
    fence = fence_for(diff)
    return (
        f"<details><summary>{html.escape(_clip(obj.title))}</summary>\n\n"
        f"{fence}diff\n{diff}\n{fence}\n\n</details>\n\n"
    )


def _render_section(section: Section, shown: Sequence[DiffBlock]) -> str:
    count = len(section.objects)
    label = f"🗑️ {section.title}" if section.loud else section.title
    opened = " open" if section.loud else ""
    omitted = count - len(shown)
    gap = f"_{omitted} of {count} objects left out here (too long for one comment)._\n\n" if omitted else ""
    noun = "object" if count == 1 else "objects"
    return (
        f"<details{opened}><summary><b>{html.escape(_clip(label))}</b> — {count} {noun}</summary>\n\n"
        + "".join(render_object(obj) for obj in shown)
        + gap
        + "</details>\n\n"
    )


def _render_note(omitted: Sequence[str], total: int, full_plan: str) -> str:
    text = (
        f"> [!NOTE]\n> Shortened to fit GitHub's {COMMENT_LIMIT:,}-character comment limit: "
        f"{len(omitted)} of {total} objects left out. The full plan is in {_clip(full_plan)}.\n"
    )
    names = list(omitted)
    while names:
        line = f"> Left out: {_name_list(names)}.\n"
        if size(text) + size(line) <= NOTE_RESERVE:
            return text + line
        names = names[: len(names) // 2]
    return text


def build_comment(
    header: CommentHeader,
    rows: Sequence[SummaryRow],
    sections: Sequence[Section],
    *,
    full_plan: str = "the job summary of this run",
    limit: int = COMMENT_LIMIT,
) -> str:
    """The comment markdown, at most `limit` UTF-8 bytes; `full_plan` says where the untruncated plan is."""
    ordered = sorted(sections, key=lambda s: not s.loud)  # stable: loud sections first, order kept
    head = _render_header(header) + _render_table(rows, limit // 4) + _render_warning(ordered)
    body = head + "".join(_render_section(s, s.objects) for s in ordered)
    if size(body) <= limit:
        return body
    shown = _choose_objects(ordered, limit - size(head) - NOTE_RESERVE)
    total = sum(len(s.objects) for s in ordered)
    while True:
        omitted = [
            f"{obj.title} ({section.title})"
            for section, keep in zip(ordered, shown, strict=True)
            for index, obj in enumerate(section.objects)
            if index not in keep
        ]
        body = head + "".join(
            _render_section(section, [section.objects[i] for i in keep])
            for section, keep in zip(ordered, shown, strict=True)
            if keep
        )
        body += _render_note(omitted, total, full_plan)
        nonempty = [keep for keep in shown if keep]
        if size(body) <= limit or not nonempty:
            return body
        nonempty[-1].pop()  # only if the estimate was short: drop the last object shown and retry


def _choose_objects(ordered: Sequence[Section], budget: int) -> list[list[int]]:
    """Per section, the indices of whole objects kept in order while they fit `budget`.

    An object that does not fit is skipped, never cut; a later, smaller one may still fit.
    """
    shown: list[list[int]] = []
    for section in ordered:
        chosen: list[int] = []
        frame = size(_render_section(section, ()))  # wrapper + the "left out here" line, charged once
        for index, obj in enumerate(section.objects):
            cost = size(render_object(obj)) + (0 if chosen else frame)
            if cost <= budget:
                chosen.append(index)
                budget -= cost
        shown.append(chosen)
    return shown
