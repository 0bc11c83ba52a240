"""Writing status the way a controller does: through `/status`, only when something changed."""

from __future__ import annotations

import copy
from typing import Any

from kubesim.cluster import Cluster, now_rfc3339
from kubesim.errors import ApiError
from kubesim.registry import ResourceType
from kubesim.resources import Resources, WriteOptions

Obj = dict[str, Any]
TIMESTAMPS = ("lastTransitionTime", "lastUpdateTime", "lastProbeTime", "lastHeartbeatTime")


def condition(kind: str, status: bool, reason: str = "", message: str = "") -> Obj:
    """One condition (timestamps are filled in by `merge_conditions`)."""
    result: Obj = {"type": kind, "status": "True" if status else "False"}
    if reason:
        result["reason"] = reason
    if message:
        result["message"] = message
    return result


def merge_conditions(old: list[Obj], new: list[Obj], update_time: bool = False) -> list[Obj]:
    """`new` with `lastTransitionTime` kept from `old` while a condition's status is unchanged.

    With `update_time` (Deployment conditions) `lastUpdateTime` also moves when reason or message
    change, as the deployment controller does.
    """
    now = now_rfc3339()
    previous = {c.get("type"): c for c in old}
    merged = []
    for cond in new:
        cond = dict(cond)
        before = previous.get(cond["type"])
        kept = before if before is not None and before.get("status") == cond["status"] else {}
        cond["lastTransitionTime"] = kept.get("lastTransitionTime", now)
        if update_time:
            same_text = bool(kept) and all(kept.get(k) == cond.get(k) for k in ("reason", "message"))
            cond["lastUpdateTime"] = kept.get("lastUpdateTime", now) if same_text else now
        merged.append(cond)
    return merged


def _without_timestamps(status: Any) -> Any:
    if isinstance(status, dict):
        return {k: _without_timestamps(v) for k, v in status.items() if k not in TIMESTAMPS}
    if isinstance(status, list):
        return [_without_timestamps(v) for v in status]
    return status


class StatusWriter:
    """Writes status subresources as one named controller (its field manager)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.resources = Resources(cluster)

    def write(self, rtype: ResourceType, obj: Obj, status: Obj, manager: str) -> bool:
        """Replace the status of `obj` unless only timestamps differ; False on no change or conflict."""
        if _without_timestamps(status) == _without_timestamps(obj.get("status") or {}):
            return False
        meta = obj["metadata"]
        body = {
            "apiVersion": obj.get("apiVersion", rtype.api_version),
            "kind": rtype.kind,
            "metadata": {"name": meta["name"], "resourceVersion": meta.get("resourceVersion", "")},
            "status": copy.deepcopy(status),
        }
        options = WriteOptions(manager=manager, subresource="status")
        try:
            with self.cluster.store.lock:  # no other write lands between our read and our write
                self.resources.update(rtype, meta.get("namespace", ""), meta["name"], body, options)
        except ApiError as exc:
            if exc.code in (404, 409):  # deleted or changed meanwhile: the next pass sees the new state
                return False
            raise
        return True
