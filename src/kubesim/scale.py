"""The `/scale` subresource: an autoscaling/v1 Scale view of a workload's replicas."""

from __future__ import annotations

from typing import Any

from kubesim.errors import ApiError
from kubesim.patch import json_patch, merge_patch

Obj = dict[str, Any]


def patched_scale(scale: Obj, patch_type: str, body: Any) -> Any:
    """A Scale after a JSON, merge or strategic patch (Scale has no lists, so the last two agree)."""
    if patch_type == "json":
        return json_patch(scale, body)
    if patch_type in ("merge", "strategic"):
        return merge_patch(scale, body)
    raise ApiError(415, "UnsupportedMediaType", "apply is not supported on the scale subresource here")


def scale_of(obj: Obj) -> Obj:
    """The autoscaling/v1 Scale view of a workload."""
    meta = obj["metadata"]
    status = obj.get("status") or {}
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {"replicas": status.get("replicas", 0),
                   "selector": ",".join(f"{k}={v}" for k, v in sorted(selector.items()))},
    }
