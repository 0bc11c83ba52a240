"""WATCH streams: initial events, live events from the store history, bookmarks, 410 on expiry."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from kubesim.cluster import Cluster
from kubesim.errors import expired
from kubesim.registry import ResourceType

BOOKMARK_INTERVAL = 5.0  # seconds of silence before a BOOKMARK when the client allows them
POLL = 0.25  # seconds between checks of the stop flag while idle


def _line(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _bookmark(rtype: ResourceType, rv: int, initial_end: bool = False) -> bytes:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return _line("BOOKMARK", {"kind": rtype.kind, "apiVersion": rtype.api_version, "metadata": meta})


def watch_stream(cluster: Cluster, rtype: ResourceType, namespace: str | None,
                 matches: Callable[[dict[str, Any]], bool], resource_version: str, timeout: float,
                 bookmarks: bool, send_initial: bool, stop: threading.Event) -> Iterator[bytes]:
    """Yield watch event lines until `timeout` seconds pass or `stop` is set.

    While idle it yields `b""` every `POLL` seconds: not data, a chance for the transport to notice
    that the client went away (a chunked stream must never contain an empty chunk, so skip those).
    """
    store = cluster.store
    deadline = time.monotonic() + timeout

    def wanted(key: tuple[str, str, str, str], obj: dict[str, Any]) -> bool:
        if key[0] != rtype.group or key[1] != rtype.plural:
            return False
        if namespace is not None and key[2] != namespace:
            return False
        return matches(obj)

    def shaped(obj: dict[str, Any]) -> dict[str, Any]:
        obj = dict(obj)
        obj["apiVersion"], obj["kind"] = rtype.api_version, rtype.kind
        return obj

    if resource_version in ("", "0") or send_initial:
        with store.lock:
            items, last = store.list(rtype.group, rtype.plural, namespace)
        for obj in items:
            if matches(obj):
                yield _line("ADDED", shaped(obj))
        if send_initial and bookmarks:
            yield _bookmark(rtype, last, initial_end=True)
    else:
        try:
            last = int(resource_version)
        except ValueError:
            last = -1
        if last < store.oldest_watchable:
            error = expired(f"too old resource version: {resource_version} ({store.oldest_watchable + 1})")
            yield _line("ERROR", error.to_status())
            return
    idle_since = time.monotonic()
    while not stop.is_set():
        events = store.events_after(last)
        for event in events:
            last = event.resource_version
            if wanted(event.key, event.object):
                idle_since = time.monotonic()
                yield _line(event.type, shaped(event.object))
        now = time.monotonic()
        if now >= deadline:
            return
        if bookmarks and now - idle_since >= BOOKMARK_INTERVAL:
            idle_since = now
            yield _bookmark(rtype, store.resource_version)
        store.wait(last, min(POLL, max(deadline - now, 0.0)))
        yield b""
