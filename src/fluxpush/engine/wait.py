"""Wait for objects to become healthy (kstatus rules), polling the cluster in bulk.

Each poll reads the objects' collections with one LIST per type and namespace, computes every
object's status, and stops as soon as all are Current, one has Failed (Flux fails fast on a
stalled object), or the timeout passes. Polls start fast and back off to `MAX_POLL_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from fluxpush.engine.health import Health, HealthVerdict, Status, assess_health, compute_status
from fluxpush.kube import KubeClient
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.normalize import ObjectId, object_id

FIRST_POLL_SECONDS = 0.1
MAX_POLL_SECONDS = 2.0  # Flux's own health polling interval is 2s (kustomize-controller default)


def wait_for_health(
    client: KubeClient,
    objects: Iterable[dict[str, Any]],
    timeout: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] | None = None,
) -> HealthVerdict:
    """Poll until every object is Current, one Failed, or `timeout` seconds passed; an interrupted
    run stops waiting (unhealthy, saying so). `sleep` defaults to a pause the interruption ends."""
    wanted = list(objects)
    deadline = clock() + timeout
    interval = FIRST_POLL_SECONDS
    while True:
        snapshot = LiveIndex(client, reads=wanted)
        results: dict[ObjectId, Health] = {}
        for obj in wanted:
            live = snapshot.get(obj)
            results[object_id(obj)] = (
                compute_status(live) if live is not None else Health(Status.NOT_FOUND, "Resource not found")
            )
        verdict = assess_health(results, timed_out=clock() >= deadline)
        if verdict.done:
            return verdict
        if client.stop.stopped:
            return HealthVerdict(True, False, f"the wait was interrupted ({client.stop.signal_name})")
        (sleep or client.stop.wait)(min(interval, max(deadline - clock(), 0.0)))
        interval = min(interval * 2, MAX_POLL_SECONDS)
