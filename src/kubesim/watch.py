"""WATCH streams: initial events, live events from the store history, bookmarks, 410 on expiry."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Generator, Iterator
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


def _wanted(rtype: ResourceType, namespace: str | None, key: tuple[str, str, str, str]) -> bool:
    return key[0] == rtype.group and key[1] == rtype.plural and (namespace is None or key[2] == namespace)


def _shaped(rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    obj = dict(obj)
    obj["apiVersion"], obj["kind"] = rtype.api_version, rtype.kind
    return obj


def _start(cluster: Cluster, rtype: ResourceType, namespace: str | None,
           matches: Callable[[dict[str, Any]], bool], resource_version: str, bookmarks: bool,
           send_initial: bool) -> Generator[bytes, None, int | None]:
    """The initial events (a list, when asked for), or a 410 for an expired version; returns the
    resourceVersion to follow from, None after the 410."""
    store = cluster.store
    if resource_version in ("", "0") or send_initial:
        with store.lock:
            items, last = store.list(rtype.group, rtype.plural, namespace)
        for obj in items:
            if matches(obj):
                yield _line("ADDED", _shaped(rtype, obj))
        if send_initial and bookmarks:
            yield _bookmark(rtype, last, initial_end=True)
        return last
    try:
        last = int(resource_version)
    except ValueError:
        last = -1
    if last < store.oldest_watchable:
        error = expired(f"too old resource version: {resource_version} ({store.oldest_watchable + 1})")
        yield _line("ERROR", error.to_status())
        return None
    return last


def watch_stream(cluster: Cluster, rtype: ResourceType, namespace: str | None,
                 matches: Callable[[dict[str, Any]], bool], resource_version: str, timeout: float,
                 bookmarks: bool, send_initial: bool, stop: threading.Event) -> Iterator[bytes]:
    """Yield watch event lines until `timeout` seconds pass or `stop` is set.

    While idle it yields `b""` every `POLL` seconds: not data, a chance for the transport to notice
    that the client went away (a chunked stream must never contain an empty chunk, so skip those).
    """
    store = cluster.store
    deadline = time.monotonic() + timeout
    last = yield from _start(cluster, rtype, namespace, matches, resource_version, bookmarks, send_initial)
    if last is None:
        return
    idle_since = time.monotonic()
    while not stop.is_set():
        for event in store.events_after(last):
            last = event.resource_version
            if _wanted(rtype, namespace, event.key) and matches(event.object):
                idle_since = time.monotonic()
                yield _line(event.type, _shaped(rtype, event.object))
        now = time.monotonic()
        if now >= deadline:
            return
        if bookmarks and now - idle_since >= BOOKMARK_INTERVAL:
            idle_since = now
            yield _bookmark(rtype, store.resource_version)
        store.wait(last, min(POLL, max(deadline - now, 0.0)))
        yield b""
