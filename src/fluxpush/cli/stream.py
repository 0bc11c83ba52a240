"""A run on the terminal: each node's changes before they are written and its result as soon as it is
decided, line by line (flushed, for CI logs); then the totals, and what an interruption left."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from fluxpush.app.selection import apply_order
from fluxpush.app.usecases import RunHooks
from fluxpush.engine.run import RunResult
from fluxpush.flux.model import ObjectRef
from fluxpush.planning.plan import ObjectChange
from fluxpush.planning.result import NodeResult, Outcome
from fluxpush.report.notify import Delivery
from fluxpush.report.terminal import APPLIED_WORD, change_lines, node_lines, totals_line
from fluxpush.repository.discover import Discovery


class StreamPrinter(RunHooks):
    """Prints the run as it happens: the discovery's notices and problems (stderr), each node's
    changes before they are written, its result as soon as it is decided (`-o json` prints nothing
    here); on a terminal, each node's start on stderr."""

    def __init__(self, *, text: bool, applying: bool) -> None:
        self.text = text
        self.applying = applying
        self.color = sys.stdout.isatty()
        self.live = sys.stderr.isatty() and not os.environ.get("CI")
        self._lock = threading.Lock()  # one node's lines stay together
        # A plan (nothing written) prints its nodes in apply order, each as soon as those before it
        # are decided; an apply prints each node when it happens, since its writes do.
        self._order: list[ObjectRef] = []
        self._held: dict[ObjectRef, list[str]] = {}
        self._printed = 0

    def discovered(self, discovery: Discovery, targets: Sequence[ObjectRef] | None) -> None:
        for notice in discovery.notices:
            print(f"ℹ {notice}", file=sys.stderr)
        for problem in discovery.problems:
            print(f"✗ {problem}", file=sys.stderr)
        self._order = [ref for ref in apply_order(discovery) if targets is None or ref in targets]

    def _print_in_order(self, ref: ObjectRef, lines: Sequence[str]) -> None:
        with self._lock:
            if ref not in self._order:
                print("\n".join(lines), flush=True)
                return
            self._held[ref] = list(lines)
            while self._printed < len(self._order) and self._order[self._printed] in self._held:
                print("\n".join(self._held.pop(self._order[self._printed])), flush=True)
                self._printed += 1

    def flush(self) -> None:
        """Print plans still held (an interrupted run decides no more nodes), in apply order."""
        with self._lock:
            for ref in self._order[self._printed:]:
                if ref in self._held:
                    print("\n".join(self._held.pop(ref)), flush=True)
            self._printed = len(self._order)

    def _print(self, lines: Sequence[str], stream: TextIO | None = None) -> None:
        with self._lock:
            print("\n".join(lines), file=stream or sys.stdout, flush=True)

    def started(self, ref: ObjectRef, applying: bool) -> None:
        if self.live:
            self._print([f"◎ {ref} {'applying' if applying else 'planning'}"], sys.stderr)

    def planned(self, ref: ObjectRef, changes: Sequence[ObjectChange]) -> None:
        lines = change_lines(changes, self.color)
        if self.text and lines:
            self._print([f"📁 {ref} applying:", *lines])

    def finished(self, result: NodeResult) -> None:
        if not self.text:
            return
        if self.applying:
            self._print(result_lines(result))
        else:
            self._print_in_order(result.node, node_lines(result.plan, self.color))


def result_lines(result: NodeResult) -> list[str]:
    """An applied node's result: a summary line, why it is not ready, each object written."""
    mark = "✔" if result.ok else "✗"
    counts = {
        word: sum(1 for c in result.applied if APPLIED_WORD.get(c.action) == word)
        for word in APPLIED_WORD.values()
    }
    summary = ", ".join(f"{n} {word}" for word, n in counts.items() if n) or "no changes"
    first, *rest = result.message.splitlines() or [""]
    lines = [f"{mark} {result.node} {result.outcome}: {summary} in {result.duration:.1f}s"]
    if result.outcome is not Outcome.READY:
        lines.append(f"  {result.reason}: {first}")
        lines += [f"  {line}" for line in rest]
    lines += [f"  {change.id} {APPLIED_WORD[change.action]}" for change in result.applied]
    return lines


def _interruption_lines(run: RunResult, released: bool) -> list[str]:
    """What an interrupted run applied and what it did not."""
    applied = [f"  applied: {r.node} ({len(r.applied)} writes)" for r in run.results if r.applied]
    not_applied = [f"  not applied: {r.node} ({r.outcome}: {(r.message.splitlines() or [''])[0]})"
                   for r in run.results if not r.applied and r.outcome is not Outcome.READY]
    lease = "the Lease was released" if released else "the Lease could not be released (see above)"
    return [f"✗ interrupted by {run.interrupted}: no write was started after the signal; "
            f"inventories record what was written; {lease}",
            *(applied or ["  applied: nothing"]), *not_applied,
            "  run the same command again to converge"]


def print_totals(run: RunResult) -> None:
    """The plan's `Plan: …` line."""
    print(totals_line(run.plan, sys.stdout.isatty()))


def print_run(run: RunResult, released: bool = True) -> None:
    """The run's totals (each node's changes and result were streamed), and what an interruption left."""
    print_totals(run)
    failed = sum(1 for r in run.results if not r.ok)
    nodes = f"{len(run.results)} node{'' if len(run.results) == 1 else 's'}"
    print(
        f"{'✔' if not failed else '✗'} {nodes}, {failed} not ready, "
        f"{run.requests} API requests in {run.duration:.1f}s at {run.revision}"
    )
    if run.interrupted:
        print("\n".join(_interruption_lines(run, released)), flush=True)


def print_deliveries(deliveries: Sequence[Delivery]) -> None:
    """Each notification sent, or why it failed (stderr)."""
    for delivery in deliveries:
        if delivery.ok:
            print(f"✉ {delivery.involved_object} → {delivery.provider} ({delivery.provider_type})")
        else:
            print(f"✗ notification for {delivery.involved_object} via {delivery.provider} failed: "
                  f"{delivery.error}", file=sys.stderr)
