"""The plan as plain data: what applying each node would do to each object, and why.

A `Plan` holds `NodePlan`s in apply order; each holds `ObjectChange`s (create, update, unchanged,
skip) and prune candidates (delete). Diffs in a plan are already normalized and Secret-masked, so a
plan can be printed, posted, or written as JSON (`to_json`/`from_json`) without leaking a value.
`classify` decides one object's action from its desired form, the live object and, when the server
was asked, the dry-run result. How a plan reads on a terminal is `fluxpush.report.terminal`'s job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fluxpush.flux.model import ObjectRef
from fluxpush.planning.clientside import Comparison, client_side_changed, project_apply
from fluxpush.planning.diff import diff_objects
from fluxpush.planning.normalize import (
    CLEANUP_ANNOTATIONS,
    CLEANUP_LABELS,
    RECONCILE_KEY,
    SSA_KEY,
    ObjectId,
    has_setting,
    object_id,
)
from fluxpush.planning.options import FIELD_MANAGER
from fluxpush.redact import redact_data

__all__ = [
    "FIELD_MANAGER", "Action", "Comparison", "NodePlan", "ObjectChange", "Plan", "Totals", "classify",
    "client_side_changed", "delete_change", "metadata_cleanup", "skip_reason",
]

# Managers whose entries kustomize-controller folds into its own Apply entry before applying
# (flux-semantics §4.4 step 5; with them, its own `Update` entry). Names match exactly, as in Flux.
FOLDED_MANAGERS = (("kubectl", "Apply"), ("kubectl", "Update"), ("before-first-apply", "Update"))
PLAN_FORMAT = 1  # bump when the JSON shape changes


class Action(StrEnum):
    """What applying (or pruning) does to one object."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SKIP = "skip"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class ObjectChange:
    """One object's planned action; `reason` says why when the action alone does not (skips)."""

    id: ObjectId
    action: Action
    reason: str = ""
    diff: str = ""
    changed_paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Totals:
    """Object counts per action; prints as `3 to create, 1 to update, 2 to delete, 10 unchanged`."""

    create: int = 0
    update: int = 0
    delete: int = 0
    unchanged: int = 0
    skip: int = 0

    def __str__(self) -> str:
        text = f"{self.create} to create, {self.update} to update, {self.delete} to delete, " \
               f"{self.unchanged} unchanged"
        return f"{text}, {self.skip} skipped" if self.skip else text

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.create + other.create, self.update + other.update, self.delete + other.delete,
                      self.unchanged + other.unchanged, self.skip + other.skip)


@dataclass(frozen=True, slots=True)
class NodePlan:
    """A Kustomization's or HelmRelease's planned changes; `error`/`blocked_by` when it cannot run."""

    node: ObjectRef
    revision: str
    changes: tuple[ObjectChange, ...] = ()
    prune: tuple[ObjectChange, ...] = ()
    error: str = ""
    blocked_by: tuple[str, ...] = ()
    cluster: str = ""  # spec.kubeConfig: the `Secret/ns/name` of the cluster its objects go to

    @property
    def totals(self) -> Totals:
        """Counts over changes and prune candidates."""
        counts = {action: 0 for action in Action}
        for change in (*self.changes, *self.prune):
            counts[change.action] += 1
        return Totals(counts[Action.CREATE], counts[Action.UPDATE], counts[Action.DELETE],
                      counts[Action.UNCHANGED], counts[Action.SKIP])

    @property
    def has_changes(self) -> bool:
        """Whether anything would be created, updated or deleted."""
        totals = self.totals
        return bool(totals.create or totals.update or totals.delete)


@dataclass(frozen=True, slots=True)
class Plan:
    """Every node's plan, in apply order."""

    nodes: tuple[NodePlan, ...] = field(default_factory=tuple)

    @property
    def totals(self) -> Totals:
        """Counts over every node."""
        return sum((node.totals for node in self.nodes), Totals())

    @property
    def has_changes(self) -> bool:
        """Whether applying the plan would change the cluster."""
        return any(node.has_changes for node in self.nodes)

    def to_json(self) -> str:
        """The plan as a JSON document (format `PLAN_FORMAT`), secret values masked (`redact_data`):
        this is what `-o json` prints and plan files hold."""
        data = {"format": PLAN_FORMAT, "nodes": [_node_to_dict(n) for n in self.nodes],
                "totals": _totals_to_dict(self.totals)}
        return json.dumps(redact_data(data), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        """Read a document written by `to_json`; raises ValueError on another format."""
        data = json.loads(text)
        if data.get("format") != PLAN_FORMAT:
            raise ValueError(f"plan format {data.get('format')!r} is not {PLAN_FORMAT}")
        return cls(tuple(_node_from_dict(n) for n in data["nodes"]))


def _totals_to_dict(totals: Totals) -> dict[str, int]:
    return {"create": totals.create, "update": totals.update, "delete": totals.delete,
            "unchanged": totals.unchanged, "skip": totals.skip}


def _change_to_dict(change: ObjectChange) -> dict[str, Any]:
    oid = change.id
    return {"object": str(oid), "group": oid.group, "kind": oid.kind, "namespace": oid.namespace,
            "name": oid.name, "action": str(change.action), "reason": change.reason, "diff": change.diff,
            "changed_paths": list(change.changed_paths)}


def _change_from_dict(data: dict[str, Any]) -> ObjectChange:
    oid = ObjectId(data["group"], data["kind"], data["namespace"], data["name"])
    return ObjectChange(oid, Action(data["action"]), data["reason"], data["diff"],
                        tuple(data["changed_paths"]))


def _node_to_dict(node: NodePlan) -> dict[str, Any]:
    return {"node": str(node.node), "revision": node.revision, "error": node.error, "cluster": node.cluster,
            "blocked_by": list(node.blocked_by), "changes": [_change_to_dict(c) for c in node.changes],
            "prune": [_change_to_dict(c) for c in node.prune], "totals": _totals_to_dict(node.totals)}


def _node_from_dict(data: dict[str, Any]) -> NodePlan:
    return NodePlan(ObjectRef.parse(data["node"]), data["revision"],
                    tuple(_change_from_dict(c) for c in data["changes"]),
                    tuple(_change_from_dict(c) for c in data["prune"]), data["error"],
                    tuple(data["blocked_by"]), data.get("cluster", ""))


# -- classification --

def skip_reason(desired: dict[str, Any], live: dict[str, Any] | None) -> str:
    """Why Flux would not apply `desired` at all (flux-semantics §4.4 step 2), or ``."""
    if has_setting(desired, RECONCILE_KEY, "disabled") or has_setting(live, RECONCILE_KEY, "disabled"):
        return "reconcile: disabled"
    if has_setting(desired, SSA_KEY, "Ignore") or has_setting(live, SSA_KEY, "Ignore"):
        return "ssa: Ignore"
    if live is not None and has_setting(desired, SSA_KEY, "IfNotPresent"):
        return "ssa: IfNotPresent"
    return ""


def metadata_cleanup(desired: dict[str, Any], live: dict[str, Any], field_manager: str) -> str:
    """What Flux's metadata cleanup patch would remove from `live` before applying, or ``.

    Nothing when desired or live asks for `ssa: Merge`. The patch drops the kubectl annotations and
    labels Flux manages and folds other managers' entries into `field_manager`'s Apply entry.
    """
    if has_setting(desired, SSA_KEY, "Merge") or has_setting(live, SSA_KEY, "Merge"):
        return ""
    meta = live.get("metadata") or {}
    found = [name for name in CLEANUP_ANNOTATIONS if name in (meta.get("annotations") or {})]
    found += [name for name in CLEANUP_LABELS if name in (meta.get("labels") or {})]
    folded = {*FOLDED_MANAGERS, (field_manager, "Update")}
    found += sorted({f"managedFields of {e.get('manager')} ({e.get('operation')})"
                     for e in meta.get("managedFields") or ()
                     if (e.get("manager"), e.get("operation")) in folded and not e.get("subresource")})
    return f"metadata cleanup: {', '.join(found)}" if found else ""


def classify(
    desired: dict[str, Any],
    live: dict[str, Any] | None,
    merged: dict[str, Any] | None,
    *,
    field_manager: str = FIELD_MANAGER,
) -> ObjectChange:
    """The planned action for one object.

    `merged` is the server's dry-run apply result; None means the client way: the decision comes
    from `client_side_changed`, and when that cannot decide, the object is planned as an update
    (applying is safe under server-side apply) with the reason given, so a caller that wants
    precision dry-runs such objects first.
    """
    oid = object_id(desired)
    reason = skip_reason(desired, live)
    if reason:
        return ObjectChange(oid, Action.SKIP, reason)
    if live is None:
        return ObjectChange(oid, Action.CREATE, diff=diff_objects(None, merged or desired).text)
    cleanup = metadata_cleanup(desired, live, field_manager)
    if merged is not None:
        diff = diff_objects(live, merged, desired_label="merged")
        note = ""
    else:
        result = client_side_changed(desired, live, field_manager)
        if result.verdict is Comparison.UNCHANGED and not cleanup:
            return ObjectChange(oid, Action.UNCHANGED)
        diff = diff_objects(live, project_apply(desired, live))
        note = "" if result.verdict is Comparison.CHANGED else f"undecided without a dry-run: {result.reason}"
        if result.verdict is Comparison.CHANGED and not diff.has_changes:
            note = result.reason  # a removal of an owned field, which the preview does not show
    paths = tuple(str(c) for c in diff.changes)
    if not (diff.has_changes or cleanup or note):
        return ObjectChange(oid, Action.UNCHANGED)
    return ObjectChange(oid, Action.UPDATE, "; ".join(r for r in (note, cleanup) if r), diff.text, paths)


def delete_change(live: dict[str, Any]) -> ObjectChange:
    """A prune candidate as a change: the (masked) live object going away."""
    return ObjectChange(object_id(live), Action.DELETE, diff=diff_objects(live, None).text)
