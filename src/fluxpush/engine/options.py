"""How a run plans and applies: the plan way, the engine's options and its concurrency limits.

Plain data only, so the command line can declare its options without loading the cluster client.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Flux's field manager name, so a cluster can move between fluxpush and Flux (DESIGN.md).
FIELD_MANAGER = "kustomize-controller"

# Nodes reconciled at once, each keeping `OBJECT_CONCURRENCY` requests in flight (dry runs, then
# writes): enough to hide a remote API server's latency on a wide dependency graph, well under its
# in-flight request limits. The transport's pool keeps that many connections open.
NODE_CONCURRENCY = 8
OBJECT_CONCURRENCY = 8


class PlanWay(StrEnum):
    """How changes are computed."""

    SERVER = "server"
    CLIENT = "client"
    READ_ONLY = "read-only"


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How a run plans and applies."""

    way: PlanWay = PlanWay.SERVER
    prune: bool = True
    force: bool = False  # recreate objects whose immutable fields changed
    allow_destructive_prune: bool = False
    timeout: float | None = None  # seconds; None: each Kustomization's own timeout
    field_manager: str = FIELD_MANAGER
    concurrency: int = NODE_CONCURRENCY
