"""`python -m bench [--sizes 10x20,50x50] [--latency 0,20] [--scenarios render,plan,apply,transport]`."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.generate import parse_size
from bench.report import format_table, write_json
from bench.scenarios import SCENARIOS, Row, prepare_workload, run_apply, run_plan, run_render
from bench.transport import format_figures, measure

DEFAULT_SIZES = "10x20,50x50,200x25"
DEFAULT_LATENCIES = "0,20"


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; sizes are NxM (N Kustomizations of M objects) or NxMxD (dependsOn depth D)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"comma-separated (default {DEFAULT_SIZES})")
    parser.add_argument("--latency", default=DEFAULT_LATENCIES,
                        help="kubesim latency per request in ms, comma-separated "
                        f"(default {DEFAULT_LATENCIES})")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated subset of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--out", type=Path, help="folder for the JSON results (default bench/out)")
    args = parser.parse_args(argv)
    try:
        args.specs = [parse_size(size) for size in _list(args.sizes)]
        args.latencies = [float(ms) for ms in _list(args.latency)]
    except ValueError as exc:
        parser.error(str(exc))
    args.scenario_names = _list(args.scenarios)
    unknown = sorted(set(args.scenario_names) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    return args


def _shown(rows: list[Row]) -> list[Row]:
    """`rows`, after printing each one's time to stderr (the table comes at the end)."""
    for row in rows:
        print(f"  {row.tool}: {row.seconds:.2f}s, {row.requests} requests", file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenarios, print the table, write the JSON; exit 1 when a command failed."""
    args = parse_args(argv)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="fluxpush-bench-") as scratch:
        for spec in args.specs:
            print(f"… {spec.label} (depth {spec.depth}): generating and rendering",
                  file=sys.stderr, flush=True)
            workload = prepare_workload(spec, Path(scratch) / spec.label)
            if "render" in args.scenario_names:
                rows += _shown(run_render(workload))
            for latency in args.latencies:
                for name, run in (("plan", run_plan), ("apply", run_apply)):
                    if name in args.scenario_names:
                        print(f"… {spec.label} at {latency:g} ms: {name}", file=sys.stderr, flush=True)
                        rows += _shown(run(workload, latency))
    print(format_table(rows))
    if "transport" in args.scenario_names:
        print("\nCPU per request, API-server pool vs the kubernetes client's urllib3 (decision 0001):")
        print(format_figures(measure()))
    path = write_json(rows, args.out) if args.out else write_json(rows)
    print(f"\nJSON: {path}", file=sys.stderr)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
