"""Live state read in bulk: one LIST per (apiVersion, kind, namespace), cached for a run.

Planning a node asks for the live copy of each of its objects. Instead of one GET per object,
the first question about a type in a namespace lists that whole collection, so a node of 50
Deployments in one namespace costs one request. Cluster-scoped types are listed once. A type the
server does not serve (its CRD is not applied yet) reads as "no object".
"""

from __future__ import annotations

import threading
from typing import Any

from fluxpush.errors import ClusterError
from fluxpush.kube import KubeClient

CollectionKey = tuple[str, str, str]  # apiVersion, kind, namespace ("" for cluster-scoped or all)


class LiveIndex:
    """Thread-safe cache of listed collections; `forget` drops what a write made stale."""

    def __init__(self, client: KubeClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._collections: dict[CollectionKey, dict[str, dict[str, Any]]] = {}
        self._loading: dict[CollectionKey, threading.Lock] = {}  # one per collection being listed

    def is_served(self, api_version: str, kind: str) -> bool:
        """Whether the server serves this type now (discovery refreshes once on a miss)."""
        try:
            self.client.resource_for(api_version, kind)
        except ClusterError as exc:
            if exc.status is None and exc.is_user_error:
                return False
            raise
        return True

    def get(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The live object with `obj`'s identity, or None when absent or its type is not served."""
        api_version, kind = obj["apiVersion"], obj["kind"]
        meta = obj.get("metadata") or {}
        if not self.is_served(api_version, kind):
            return None
        namespaced = self.client.resource_for(api_version, kind).namespaced
        key = (api_version, kind, meta.get("namespace", "") if namespaced else "")
        return self._collection(key).get(meta.get("name", ""))

    def _collection(self, key: CollectionKey) -> dict[str, dict[str, Any]]:
        """The listed collection; threads asking for the same one at once share a single LIST."""
        with self._lock:
            collection = self._collections.get(key)
            if collection is not None:
                return collection
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                collection = self._collections.get(key)
            if collection is None:
                items = self.client.list(key[0], key[1], key[2] or None)
                collection = {item["metadata"]["name"]: item for item in items}
                with self._lock:
                    self._collections[key] = collection
        return collection

    def forget(self, obj: dict[str, Any]) -> None:
        """Drop the cached collection holding `obj` (after writing to it)."""
        meta = obj.get("metadata") or {}
        with self._lock:
            for key in [k for k in self._collections if k[:2] == (obj["apiVersion"], obj["kind"])]:
                if key[2] in ("", meta.get("namespace", "")):
                    del self._collections[key]
