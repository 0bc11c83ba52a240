"""The plan's read stage: everything classifying a node's objects needs from the cluster, as one value.

`read_for_plan` asks the live snapshot (`LiveIndex`: bulk LISTs, cached for the run) which of the
desired types are served and for each object's live copy, then dry-runs, with the field manager
apply uses and `force=true`, exactly the objects `classifier.needs_dry_run` names for the plan way
(the rule classification itself follows). Up to `OBJECT_CONCURRENCY` objects are read at once.
A refused dry run is kept as the answer (classification decides what it means); any other failure
to read raises, as before.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fluxpush.errors import ClusterError
from fluxpush.planning.classifier import DryRunAnswer, PlanReads, needs_dry_run, type_key
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.normalize import ObjectId, object_id
from fluxpush.planning.options import FIELD_MANAGER, OBJECT_CONCURRENCY, PlanWay

_Read = tuple[ObjectId, dict[str, Any] | None, DryRunAnswer | None]


def read_for_plan(objects: list[dict[str, Any]], live_index: LiveIndex, way: PlanWay, *,
                  field_manager: str = FIELD_MANAGER) -> PlanReads:
    """The `PlanReads` of `objects` planned the `way` way: served types, live copies, dry runs."""
    unserved = frozenset(key for key in {type_key(obj) for obj in objects}
                         if not live_index.is_served(*key))

    def read(obj: dict[str, Any]) -> _Read:
        return _read_one(obj, live_index, way, field_manager)

    served = [obj for obj in objects if type_key(obj) not in unserved]
    if len(served) <= 1:
        found = [read(obj) for obj in served]
    else:
        with ThreadPoolExecutor(max_workers=min(OBJECT_CONCURRENCY, len(served))) as pool:
            found = list(pool.map(read, served))
    return PlanReads(live={oid: live for oid, live, _ in found}, unserved=unserved,
                     dry_runs={oid: answer for oid, _, answer in found if answer is not None})


def _read_one(obj: dict[str, Any], live_index: LiveIndex, way: PlanWay, field_manager: str) -> _Read:
    """One object's live copy and, when the way needs it, the server's dry-run answer."""
    live = live_index.get(obj)
    if not needs_dry_run(obj, live, way, field_manager):
        return object_id(obj), live, None
    try:
        answer: DryRunAnswer = live_index.client.apply(obj, field_manager, force=True, dry_run=True)
    except ClusterError as exc:
        answer = exc
    return object_id(obj), live, answer

