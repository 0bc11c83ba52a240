"""Classification without I/O: desired objects plus what the read stage gathered, planned objects out.

`PlanReads` is the read stage's value (`planning/reads.py` fills it from the cluster; a test can
build one by hand): the live copy of every desired object, the types the server does not serve,
and the server's dry-run answer (or refusal) for each object the plan way dry-runs. `needs_dry_run`
is the rule that says which those are; the read stage asks it before reading, `plan_object` asks it
again to know where its answer comes from, so the two can never disagree.

The ways (decision 0005): **server** dry-runs every object it may; **client** dry-runs only what the
local comparison cannot decide (`client_side_changed` says undecided, or the object is new);
**read-only** never does, and an undecided object is planned as an update that says why. An object
whose type is not served yet, whose namespace does not exist yet (both are created earlier in the
same run), that is SOPS-sealed, or that Flux would skip, is never dry-run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from fluxpush.errors import ClusterError, NotFound
from fluxpush.planning.clientside import Comparison, client_side_changed
from fluxpush.planning.normalize import ObjectId, TypeKey, object_id
from fluxpush.planning.options import PlanWay
from fluxpush.planning.plan import FIELD_MANAGER, Action, ObjectChange, classify, skip_reason
from fluxpush.sops.sealed import is_sealed, value_keys

SEALED_REASON = "SOPS-encrypted, not decrypted: compared by key set"

DryRunAnswer = dict[str, Any] | ClusterError  # the merged object, or the server's refusal


def type_key(obj: Mapping[str, Any]) -> TypeKey:
    """The `(apiVersion, kind)` of an object."""
    return str(obj["apiVersion"]), str(obj["kind"])


@dataclass(frozen=True, slots=True)
class PlanReads:
    """What classification needs from the cluster, read once, before classifying.

    `live` holds every desired object of a served type (None: it does not exist); `unserved` the
    types the server does not serve; `dry_runs` the answer for every object `needs_dry_run` names.
    """

    live: Mapping[ObjectId, dict[str, Any] | None] = field(default_factory=lambda: MappingProxyType({}))
    unserved: frozenset[TypeKey] = frozenset()
    dry_runs: Mapping[ObjectId, DryRunAnswer] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:  # a value: nobody adds a read after the fact
        object.__setattr__(self, "live", MappingProxyType(dict(self.live)))
        object.__setattr__(self, "dry_runs", MappingProxyType(dict(self.dry_runs)))

    def live_of(self, oid: ObjectId) -> dict[str, Any] | None:
        """The live copy of a desired object of a served type; ValueError when it was not read."""
        if oid not in self.live:
            raise ValueError(f"the read stage did not read {oid}")
        return self.live[oid]


@dataclass(frozen=True, slots=True)
class PlannedObject:
    """A desired object and what applying it would do; `error` when the server refused the dry run."""

    desired: dict[str, Any]
    change: ObjectChange
    error: ClusterError | None = None

    @property
    def needs_apply(self) -> bool:
        """Whether applying would create or change it."""
        return self.error is None and self.change.action in (Action.CREATE, Action.UPDATE)


def is_missing_namespace(exc: ClusterError) -> bool:
    """Whether the server refused a namespaced write because its namespace does not exist."""
    return isinstance(exc, NotFound) and exc.missing == "namespaces"


def needs_dry_run(desired: dict[str, Any], live: dict[str, Any] | None, way: PlanWay,
                  field_manager: str = FIELD_MANAGER) -> bool:
    """Whether the plan way asks the server about this object (of a served type) before classifying."""
    if is_sealed(desired) or skip_reason(desired, live) or way is PlanWay.READ_ONLY:
        return False
    if way is PlanWay.CLIENT and live is not None:
        return client_side_changed(desired, live, field_manager).verdict is Comparison.UNDECIDED
    return True


def plan_object(desired: dict[str, Any], reads: PlanReads, way: PlanWay, *,
                field_manager: str = FIELD_MANAGER) -> PlannedObject:
    """Classify one object from `reads`; no I/O."""
    oid = object_id(desired)
    if type_key(desired) in reads.unserved:
        reason = f"{desired['apiVersion']} {desired['kind']} is not served yet (its CRD is applied first)"
        return PlannedObject(desired, ObjectChange(oid, Action.CREATE, reason, *_create_diff(desired)))
    live = reads.live_of(oid)
    if is_sealed(desired):
        return PlannedObject(desired, sealed_change(desired, live))
    if not needs_dry_run(desired, live, way, field_manager):
        return PlannedObject(desired, classify(desired, live, None, field_manager=field_manager))
    answer = reads.dry_runs.get(oid)
    if answer is None:
        raise ValueError(f"the read stage did not dry-run {oid}, which the {way} way needs")
    if isinstance(answer, ClusterError):
        return _refused(desired, live, answer)
    return PlannedObject(desired, classify(desired, live, answer, field_manager=field_manager))


def _refused(desired: dict[str, Any], live: dict[str, Any] | None, exc: ClusterError) -> PlannedObject:
    """A refused dry run: a create into a namespace made earlier in the run, else a skip with the error."""
    oid = object_id(desired)
    if live is None and is_missing_namespace(exc):
        namespace = (desired.get("metadata") or {}).get("namespace")
        reason = f"namespace {namespace} does not exist yet: it is created first"
        return PlannedObject(desired, ObjectChange(oid, Action.CREATE, reason, *_create_diff(desired)))
    return PlannedObject(desired, ObjectChange(oid, Action.SKIP, "refused by the server"), exc)


def classify_objects(objects: Iterable[dict[str, Any]], reads: PlanReads, way: PlanWay, *,
                     field_manager: str = FIELD_MANAGER) -> list[PlannedObject]:
    """Classify every object from `reads`, in the given order; no I/O."""
    return [plan_object(obj, reads, way, field_manager=field_manager) for obj in objects]


def sealed_change(desired: dict[str, Any], live: dict[str, Any] | None) -> ObjectChange:
    """A Secret whose values stayed SOPS-encrypted, planned as `flux diff` does: by key set only."""
    oid = object_id(desired)
    if live is None:
        return ObjectChange(oid, Action.CREATE, SEALED_REASON, *_create_diff(desired))
    wanted, present = value_keys(desired), value_keys(live)
    if wanted == present:
        return ObjectChange(oid, Action.UNCHANGED, SEALED_REASON)
    lines = [f"-data.{k}: ***\n" for k in sorted(present - wanted)]
    lines += [f"+data.{k}: ***\n" for k in sorted(wanted - present)]
    paths = tuple(f"data.{k}" for k in sorted(wanted ^ present))
    diff = f"--- live {oid}\n+++ desired {oid}\n" + "".join(lines)
    return ObjectChange(oid, Action.UPDATE, SEALED_REASON, diff, paths)


def _create_diff(desired: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    change = classify(desired, None, None)
    return change.diff, change.changed_paths
