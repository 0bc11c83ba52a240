"""The comment markdown: layout, fence safety, escaping, and truncation within GitHub's 65,536 limit."""

from __future__ import annotations

import re

from fluxpush.report.comment import (
    COMMENT_LIMIT,
    CommentHeader,
    DiffBlock,
    Section,
    SummaryRow,
    build_comment,
    size,
)

HEADER = CommentHeader(
    status="📝 3 changes",
    commit="0123456789abcdef0123456789abcdef01234567",
    cluster_path="clusters/prod",
    run_url="https://github.com/acme/platform/actions/runs/99",
    commit_url="https://github.com/acme/platform/commit/0123456789abcdef0123456789abcdef01234567",
)


def parse_blocks(markdown: str) -> tuple[list[str], int]:
    """CommonMark-style scan: the contents of every fenced block, and the `<details>` depth at the end.

    Fails if a fence is left open or a `</details>` closes more than was opened.
    """
    blocks: list[str] = []
    depth = 0
    fence: str | None = None
    content: list[str] = []
    for line in markdown.split("\n"):
        if fence is None:
            opening = re.match(r"^(`{3,})[^`]*$", line)
            if opening:
                fence, content = opening.group(1), []
                continue
            depth += line.count("<details") - line.count("</details>")
            assert depth >= 0, f"</details> without <details>: {line!r}"
        elif re.fullmatch(rf"`{{{len(fence)},}}\s*", line):
            blocks.append("\n".join(content))
            fence = None
        else:
            content.append(line)
    assert fence is None, "a code fence was left open"
    return blocks, depth


def diff_of(n: int, lines: int = 20) -> str:
    return "\n".join(f"-  replicas: {n}\n+  replicas: {n + 1}" for _ in range(lines // 2))


def test_small_plan_layout_snapshot():
    sections = [
        Section(
            "apps/podinfo",
            (DiffBlock("Deployment podinfo/podinfo", "-  image: podinfo:6.5.0\n+  image: podinfo:6.6.0"),),
        ),
        Section("infra/ingress", (DiffBlock("Service ingress/legacy-lb", "-kind: Service"),), loud=True),
    ]
    rows = [SummaryRow("apps/podinfo", 0, 1, 0, "planned"), SummaryRow("infra/ingress", 0, 0, 1, "planned")]

    assert build_comment(HEADER, rows, sections) == (
        "<!-- fluxpush:clusters/prod -->\n"
        "### fluxpush · `clusters/prod` · 📝 3 changes\n\n"
        "Commit [`0123456789ab`](https://github.com/acme/platform/commit/0123456789abcdef0123456789abcdef01234567)"
        " · [workflow run](https://github.com/acme/platform/actions/runs/99)\n\n"
        "| Node | ➕ create | ✏️ change | 🗑️ delete | Result |\n"
        "|---|---:|---:|---:|---|\n"
        "| `apps/podinfo` | 0 | 1 | 0 | planned |\n"
        "| `infra/ingress` | 0 | 0 | 1 | planned |\n"
        "| **Total** | 0 | 1 | 1 | |\n\n"
        "> [!WARNING]\n> Objects will be deleted or replaced in `infra/ingress`.\n\n"
        "<details open><summary><b>🗑️ infra/ingress</b> — 1 object</summary>\n\n"
        "<details><summary>Service ingress/legacy-lb</summary>\n\n"
        "```diff\n-kind: Service\n```\n\n</details>\n\n"
        "</details>\n\n"
        "<details><summary><b>apps/podinfo</b> — 1 object</summary>\n\n"
        "<details><summary>Deployment podinfo/podinfo</summary>\n\n"
        "```diff\n-  image: podinfo:6.5.0\n+  image: podinfo:6.6.0\n```\n\n</details>\n\n"
        "</details>\n\n"
    )


def test_huge_plan_is_cut_to_whole_objects_within_the_limit():
    sections = [
        Section(
            f"apps/app-{s}",
            tuple(DiffBlock(f"ConfigMap app-{s}/cm-{o}", diff_of(s * 100 + o, 40)) for o in range(20)),
        )
        for s in range(20)
    ]
    full = build_comment(HEADER, [], sections, limit=10**9)
    assert size(full) > 4 * COMMENT_LIMIT

    body = build_comment(HEADER, [], sections, full_plan="the job summary ([run 99](https://ci/99))")

    assert size(body) <= COMMENT_LIMIT
    blocks, depth = parse_blocks(body)
    assert depth == 0
    shown = re.findall(r"<summary>(ConfigMap [^<]+)</summary>", body)
    every = {o.title: o.diff for s in sections for o in s.objects}
    assert 0 < len(shown) < len(every)
    assert blocks == [every[title] for title in shown]  # each shown object is whole, in order
    left_out = len(every) - len(shown)
    assert f"{left_out} of {len(every)} objects left out" in body
    assert "The full plan is in the job summary ([run 99](https://ci/99))." in body
    assert "> Left out: `ConfigMap" in body


def test_an_object_too_big_for_the_comment_is_skipped_and_later_ones_kept():
    giant = DiffBlock("CustomResourceDefinition /widgets.example.com", diff_of(1, 8000))
    small = DiffBlock("ConfigMap a/small", "+a: b")
    body = build_comment(HEADER, [], [Section("infra/crds", (giant, small))])

    assert size(body) <= COMMENT_LIMIT
    blocks, depth = parse_blocks(body)
    assert (blocks, depth) == (["+a: b"], 0)
    assert "_1 of 2 objects left out here (too long for one comment)._" in body
    assert "Left out: `CustomResourceDefinition /widgets.example.com (infra/crds)`" in body


def test_backtick_fences_inside_a_diff_cannot_break_out():
    nasty = "+  script: |\n+    ```\n+    echo hi\n+    ```\n````\n</details>\n+x: '`````'"
    body = build_comment(HEADER, [], [Section("apps/x", (DiffBlock("ConfigMap x/y", nasty),))])

    blocks, depth = parse_blocks(body)
    assert blocks == [nasty]
    assert depth == 0
    assert "``````diff\n" in body  # one backtick longer than the longest run inside


def test_titles_and_cells_are_escaped():
    rows = [SummaryRow("apps/@platform-team | x", 1, 0, 0, "fail <b>|</b>")]
    sections = [Section("<img src=x>", (DiffBlock("Secret a/<script>", "+data: ***"),))]
    body = build_comment(HEADER, rows, sections)

    assert "<script>" not in body and "<img" not in body
    assert "&lt;script&gt;" in body
    assert "| `apps/@platform-team \\| x` | 1 | 0 | 0 | fail &lt;b&gt;\\|&lt;/b&gt; |" in body


def test_thousands_of_nodes_keep_the_table_bounded():
    rows = [SummaryRow(f"apps/app-{n:05d}", 1, 2, 0, "planned") for n in range(5000)]
    body = build_comment(HEADER, rows, [])

    assert size(body) <= COMMENT_LIMIT // 4 + 2000
    shown = body.count("| `apps/app-")
    assert f"| … | | | | {5000 - shown} more nodes |" in body
    assert "| **Total** | 5000 | 10000 | 0 | |" in body


def test_the_same_plan_renders_byte_identical():
    sections = [
        Section(f"n{i}", (DiffBlock(f"ConfigMap a/{i}", diff_of(i, 3000)),), loud=i % 2 == 0)
        for i in range(30)
    ]
    assert build_comment(HEADER, [], sections) == build_comment(HEADER, [], sections)
