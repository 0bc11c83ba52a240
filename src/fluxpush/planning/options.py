"""How a run plans and applies: the plan way, the engine's options and its concurrency limits.

Plain data only, so the command line can declare its options without loading the cluster client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# Flux's field manager name, so a cluster can move between fluxpush and Flux (DESIGN.md).
FIELD_MANAGER = "kustomize-controller"

# Nodes reconciled at once, each with up to `OBJECT_CONCURRENCY` objects dry-run (then written) at
# once. The transport caps the requests in flight for the whole run (`MAX_IN_FLIGHT`, 64, well under
# an API server's in-flight limits), so a node alone on a deep dependency chain may use all of it,
# while on a wide graph 16 nodes share it and hide the server's latency between their steps.
NODE_CONCURRENCY = 16
OBJECT_CONCURRENCY = 64


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
    # `NAMESPACE/NAME` of a spec.kubeConfig Secret → a kubeconfig file (`--kubeconfig-for`)
    kubeconfigs: Mapping[str, str] = field(default_factory=dict)
