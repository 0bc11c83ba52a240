"""What reconciling a node ended in, shared by every kind's reconciler and the faces."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from fluxpush.flux.model import ObjectRef
from fluxpush.planning.plan import NodePlan, ObjectChange

# Hears a node's planned changes before they are written (the faces stream them).
Announce = Callable[[Sequence[ObjectChange]], None]


class Outcome(StrEnum):
    """How a node's reconciliation ended (the Ready condition's meaning)."""

    READY = "Ready"
    FAILED = "Failed"
    BLOCKED = "DependencyNotReady"
    SUSPENDED = "Suspended"
    SKIPPED = "Skipped"
    INTERRUPTED = "Interrupted"  # not started: the run was stopped (SIGTERM/SIGINT) before its turn


@dataclass(frozen=True, slots=True)
class NodeResult:
    """A node's outcome with Flux's reason, its plan, and what was written."""

    node: ObjectRef
    outcome: Outcome
    reason: str
    message: str
    plan: NodePlan
    applied: tuple[ObjectChange, ...] = ()
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the node is fine (ready, or deliberately not reconciled)."""
        return self.outcome in (Outcome.READY, Outcome.SUSPENDED, Outcome.SKIPPED)
