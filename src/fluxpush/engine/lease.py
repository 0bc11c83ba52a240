"""One run at a time per cluster: a `coordination.k8s.io/v1` Lease held for the run and renewed.

Taking the Lease is a server-side apply by a field manager named after the holder, without
force: when another holder owns `holderIdentity`, the server answers with a field-manager conflict,
so two runs racing for a free Lease cannot both win. An expired Lease (not renewed within its
duration) is taken over with force, guarded by its resourceVersion. A background thread renews
it every third of its duration; releasing deletes it.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

from fluxpush.errors import ClusterError, Conflict
from fluxpush.kube import KubeClient

LEASE_NAMESPACE = "kube-system"  # exists on every cluster; fluxpush's own namespace may not yet
LEASE_NAME = "fluxpush"
LEASE_SECONDS = 60
WAIT_POLL_SECONDS = 2.0


class LeaseHeldError(ClusterError):
    """Another run holds the cluster's Lease."""


def holder_identity(who: str = "fluxpush") -> str:
    """`<who>@<host>:<pid>` (who: the GitHub run or the user, as the face says): who is running,
    readable in `kubectl get lease`."""
    return f"{who}@{socket.gethostname()}:{os.getpid()}"


def _micro_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")


class ClusterLease:
    """The run's Lease; use as a context manager around the run."""

    def __init__(
        self,
        client: KubeClient,
        holder: str | None = None,
        *,
        wait_seconds: float = 0.0,
        duration: int = LEASE_SECONDS,
    ) -> None:
        self.client = client
        self.holder = holder or holder_identity()
        self.wait_seconds = wait_seconds
        self.duration = duration
        self._acquired_at = ""
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.release_error: ClusterError | None = None

    @property
    def _manager(self) -> str:
        return f"fluxpush-lease-{hashlib.sha256(self.holder.encode()).hexdigest()[:12]}"

    def _body(self, resource_version: str | None = None) -> dict[str, Any]:
        now = _micro_time(datetime.now(UTC))
        self._acquired_at = self._acquired_at or now
        meta: dict[str, Any] = {"name": LEASE_NAME, "namespace": LEASE_NAMESPACE}
        if resource_version:
            meta["resourceVersion"] = resource_version
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": meta,
            "spec": {
                "holderIdentity": self.holder,
                "leaseDurationSeconds": self.duration,
                "acquireTime": self._acquired_at,
                "renewTime": now,
            },
        }

    def _expired(self, live: dict[str, Any]) -> bool:
        spec = live.get("spec") or {}
        renewed = _parse_time(spec.get("renewTime")) or _parse_time(spec.get("acquireTime"))
        if not spec.get("holderIdentity") or renewed is None:
            return True
        age = (datetime.now(UTC) - renewed).total_seconds()
        return age > float(spec.get("leaseDurationSeconds") or self.duration)

    def try_acquire(self) -> str | None:
        """Take the Lease; None on success, else the current holder's identity."""
        live = self.client.get("coordination.k8s.io/v1", "Lease", LEASE_NAME, LEASE_NAMESPACE)
        holder = ((live or {}).get("spec") or {}).get("holderIdentity")
        if live is not None and holder != self.holder and not self._expired(live):
            return str(holder)
        take_over = live is not None and holder != self.holder
        body = self._body(live["metadata"]["resourceVersion"] if live is not None and take_over else None)
        try:
            with self.client.bookkeeping():
                self.client.apply(body, self._manager, force=take_over)
        except ClusterError as exc:
            if isinstance(exc, Conflict):
                latest = self.client.get("coordination.k8s.io/v1", "Lease", LEASE_NAME, LEASE_NAMESPACE)
                return str(((latest or {}).get("spec") or {}).get("holderIdentity") or "another run")
            raise
        return None

    def acquire(self) -> None:
        """Take the Lease, waiting up to `wait_seconds` for another holder; raise naming the holder."""
        deadline = time.monotonic() + self.wait_seconds
        self._acquired_at = ""
        while (holder := self.try_acquire()) is not None:
            if time.monotonic() >= deadline:
                raise LeaseHeldError(
                    f"another run holds the cluster: Lease {LEASE_NAMESPACE}/{LEASE_NAME} "
                    f"is held by {holder}",
                    hint="wait for it to finish (or pass --lock-wait SECONDS); a crashed run's Lease expires "
                    f"{self.duration}s after its last renewal",
                )
            if self.client.stop.wait(WAIT_POLL_SECONDS):
                raise self.client.stop.refusal(f"Lease {LEASE_NAMESPACE}/{LEASE_NAME}")
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name="fluxpush-lease", daemon=True)
        self._renewer.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.duration / 3):
            try:
                with self.client.bookkeeping():
                    self.client.apply(self._body(), self._manager)
            except ClusterError:
                continue  # the next renewal retries; the lease only lapses after `duration`

    def release(self) -> None:
        """Stop renewing and delete the Lease if this run still holds it. A failure (the cluster gone,
        the credentials expired) does not hide the run's result: it is kept in `release_error`."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        try:
            live = self.client.get("coordination.k8s.io/v1", "Lease", LEASE_NAME, LEASE_NAMESPACE)
            if live is not None and (live.get("spec") or {}).get("holderIdentity") == self.holder:
                with self.client.bookkeeping():
                    self.client.delete("coordination.k8s.io/v1", "Lease", LEASE_NAME, LEASE_NAMESPACE)
        except ClusterError as exc:
            self.release_error = ClusterError(
                f"not released: {exc.message}", status=exc.status, reason=exc.reason,
                obj=f"Lease/{LEASE_NAMESPACE}/{LEASE_NAME}",
                hint=f"it expires {self.duration}s after its last renewal; until then other runs wait for it",
            )

    def __enter__(self) -> ClusterLease:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
