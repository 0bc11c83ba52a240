"""`meta.k8s.io/v1` Table responses for `kubectl get` (NAME and AGE columns, like a CRD without columns)."""

from __future__ import annotations

import datetime
from typing import Any

TABLE_MEDIA = "as=Table"


def wants_table(accept: str) -> bool:
    """Whether the Accept header asks for a Table (kubectl get sends it first in its list)."""
    first = accept.split(",", 1)[0].replace(" ", "")
    return TABLE_MEDIA in first and "g=meta.k8s.io" in first


def human_age(created: str, now: datetime.datetime | None = None) -> str:
    """Age like kubectl prints it: 42s, 5m10s, 3h, 2d4h, 400d."""
    if not created:
        return "<unknown>"
    born = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    seconds = max(int(((now or datetime.datetime.now(datetime.UTC)) - born).total_seconds()), 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


def _partial(obj: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata", {})}


def to_table(objects: list[dict[str, Any]], list_meta: dict[str, Any]) -> dict[str, Any]:
    """A Table of objects, each row carrying the object's metadata as kubectl expects."""
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within "
             "a namespace.", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": "CreationTimestamp is a timestamp "
             "representing the server time when this object was created.", "priority": 0},
        ],
        "rows": [
            {"cells": [o["metadata"].get("name", ""), human_age(o["metadata"].get("creationTimestamp", ""))],
             "object": _partial(o)}
            for o in objects
        ],
    }
