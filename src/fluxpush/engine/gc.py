"""Executing a removal planned by planning/removal.py: garbage-collect a node removed from Git.

What a removed node deployed is deleted by its kind's reconciler (`Reconcilers.remove`: a
Kustomization's objects by `delete_objects`, a HelmRelease's release by helm's uninstall); this module
walks the removals children first and deletes each node's record last.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fluxpush.kube import KubeClient
from fluxpush.planning.inventory import InventoryEntry
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.plan import Action, ObjectChange
from fluxpush.planning.removal import WAIT, Removal, own_changes
from fluxpush.reconciler import Reconcilers

TERMINATION_POLL_SECONDS = 0.5


@dataclass
class RemovalLog:
    """What executing removals has to report besides their deletions (terminations still pending)."""

    notes: list[str] = field(default_factory=list)


def _wait_gone(client: KubeClient, entries: tuple[InventoryEntry, ...], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    left = list(entries)
    while left and time.monotonic() < deadline:
        left = [e for e in left if client.get(e.api_version, e.id.kind, e.id.name, e.id.namespace or None)]
        if left:
            time.sleep(TERMINATION_POLL_SECONDS)
    return f"still terminating after {timeout:.0f}s: {', '.join(str(e.id) for e in left)}" if left else ""


def delete_objects(client: KubeClient, removal: Removal, timeout: float) -> str:
    """Delete the objects a removed Kustomization holds (`removal.objects.delete`); with
    WaitForTermination, wait until they are gone and return a note on those still terminating."""
    for entry in removal.objects.delete:
        client.delete(entry.api_version, entry.id.kind, entry.id.name, entry.id.namespace or None)
    return _wait_gone(client, removal.objects.delete, timeout) if removal.policy == WAIT else ""


def execute_removal(client: KubeClient, removal: Removal, live_index: LiveIndex, timeout: float,
                    log: RemovalLog, made: Callable[[ObjectChange], None], reconcilers: Reconcilers) -> None:
    """Garbage-collect one removed node, children first, its record last: what it deployed is deleted by
    its kind's reconciler. Raises FluxpushError (ClusterError, a helm failure, NoReconciler) and then
    leaves the record for the next run to retry."""
    for child in removal.children:
        execute_removal(client, child, live_index, timeout, log, made, reconcilers)
    changes = own_changes(removal, live_index)
    if removal.deletes_objects:
        note = reconcilers.remove(client, removal, timeout)
        if note:
            log.notes.append(f"{removal.node}: {note}")
    if removal.record_name is not None:
        client.delete("v1", "ConfigMap", removal.record_name, removal.node.namespace)
    for change in changes:
        if change.action is Action.DELETE:
            made(change)
