"""The results: one table on stdout (each row's time as a ratio to its baseline) and a JSON file."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.scenarios import Row

OUT_DIR = Path(__file__).resolve().parent / "out"
HEADERS = ("scenario", "size", "objects", "latency", "tool", "wall s", "requests", "obj/req", "peak MiB",
           "× baseline", "")


def group_key(row: Row) -> tuple[str, str, float | None]:
    """Rows compared with each other: same scenario, size and latency."""
    return row.scenario, row.size, row.latency_ms


def ratios(rows: Sequence[Row]) -> list[float | None]:
    """Each row's time divided by its group's baseline time (None for the baselines themselves)."""
    baselines = {group_key(row): row.seconds for row in rows if row.baseline}
    result: list[float | None] = []
    for row in rows:
        base = baselines.get(group_key(row))
        result.append(None if row.baseline or not base else row.seconds / base)
    return result


def _cells(row: Row, ratio: float | None) -> tuple[str, ...]:
    per_request = f"{row.objects / row.requests:.1f}" if row.requests else "-"
    return (
        row.scenario,
        row.size,
        str(row.objects),
        "-" if row.latency_ms is None else f"{row.latency_ms:g} ms",
        row.tool,
        f"{row.seconds:.2f}",
        "-" if row.requests is None else str(row.requests),
        per_request,
        "-" if row.peak_mib is None else f"{row.peak_mib:.0f}",
        "baseline" if row.baseline else ("-" if ratio is None else f"{ratio:.2f}"),
        ("" if row.ok else "FAILED ") + row.note,
    )


def format_table(rows: Sequence[Row]) -> str:
    """A Markdown table of every row."""
    lines = [_cells(row, ratio) for row, ratio in zip(rows, ratios(rows), strict=True)]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(HEADERS)]

    def fmt(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([fmt(HEADERS), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(fmt, lines)])


def write_json(rows: Sequence[Row], out_dir: Path = OUT_DIR) -> Path:
    """Write the rows with their ratios and the machine's description; returns the file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"bench-{stamp}.json"
    data = {
        "started": stamp,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "rows": [{**asdict(row), "ratio": ratio} for row, ratio in zip(rows, ratios(rows), strict=True)],
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
