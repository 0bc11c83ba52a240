"""Live state read in bulk: one LIST per (apiVersion, kind, namespace), cached for a run.

Planning a node asks for the live copy of each of its objects. Instead of one GET per object,
the first question about a type in a namespace lists that whole collection, so a node of 50
Deployments in one namespace costs one request. Cluster-scoped types are listed once. Once a type
was listed in `LIST_ALL_AFTER` namespaces, the next namespace lists the type across all namespaces
instead, so a run over hundreds of namespaces costs a few requests per type (where that is
forbidden, listing goes on namespace by namespace). A type the server does not serve (its CRD is
not applied yet) reads as "no object".

An index told which objects it will be asked for (`reads`) reads a collection holding at most
`GET_AT_MOST` of them object by object instead: a node's one Namespace costs one GET, not a LIST
of every Namespace in the cluster (which, over a run of hundreds of nodes, grows with each one).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

from fluxpush.errors import ClusterError, Forbidden, NotServed
from fluxpush.kube import KubeClient
from fluxpush.planning.normalize import TypeKey

CollectionKey = tuple[str, str, str]  # apiVersion, kind, namespace ("" for cluster-scoped or all)
# Namespaces listed one by one before a type is listed across all of them: a run touching a type in
# a few namespaces keeps small, namespace-scoped reads; a run over many pays one paged LIST per type.
LIST_ALL_AFTER = 3
GET_AT_MOST = 2


class LiveIndex:
    """Thread-safe cache of listed collections; `forget` drops what a write made stale."""

    def __init__(self, client: KubeClient, reads: Iterable[dict[str, Any]] = ()) -> None:
        self.client = client
        self._got: dict[tuple[CollectionKey, str], dict[str, Any] | None] = {}  # objects read by GET
        self._lock = threading.Lock()
        self._collections: dict[CollectionKey, dict[str, dict[str, Any]]] = {}
        self._loading: dict[CollectionKey, threading.Lock] = {}  # one per collection being listed
        self._listed: Counter[TypeKey] = Counter()  # namespaces listed one by one, per type
        self._everywhere: set[TypeKey] = set()  # types whose every namespace is cached
        self._denied: set[TypeKey] = set()  # types the credentials may not list across namespaces
        self._stale: set[CollectionKey] = set()  # written since their type was listed everywhere
        wanted = Counter(key for key in map(self._key, reads) if key is not None)
        self._by_get = {key for key, count in wanted.items() if count <= GET_AT_MOST}

    def is_served(self, api_version: str, kind: str) -> bool:
        """Whether the server serves this type now (discovery refreshes once on a miss)."""
        try:
            self.client.resource_for(api_version, kind)
        except ClusterError as exc:
            if isinstance(exc, NotServed):
                return False
            raise
        return True

    def _key(self, obj: dict[str, Any]) -> CollectionKey | None:
        """The collection holding `obj`, or None when its type is not served."""
        api_version, kind = obj["apiVersion"], obj["kind"]
        if not self.is_served(api_version, kind):
            return None
        namespaced = self.client.resource_for(api_version, kind).namespaced
        return api_version, kind, (obj.get("metadata") or {}).get("namespace", "") if namespaced else ""

    def get(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The live object with `obj`'s identity, or None when absent or its type is not served."""
        key = self._key(obj)
        if key is None:
            return None
        name = (obj.get("metadata") or {}).get("name", "")
        if key in self._by_get:
            with self._lock:
                collection = self._cached(key)
            if collection is None:
                return self._get_one(key, name)
            return collection.get(name)
        return self._collection(key).get(name)

    def _get_one(self, key: CollectionKey, name: str) -> dict[str, Any] | None:
        with self._lock:
            if (key, name) in self._got:
                return self._got[key, name]
        found = self.client.get(key[0], key[1], name, key[2] or None)
        with self._lock:
            self._got[key, name] = found
        return found

    def _cached(self, key: CollectionKey) -> dict[str, dict[str, Any]] | None:
        """The cached collection (call with the lock held); empty for a namespace a LIST of all lacked."""
        collection = self._collections.get(key)
        if collection is None and key[:2] in self._everywhere and key not in self._stale:
            collection = self._collections[key] = {}
        return collection

    def _collection(self, key: CollectionKey) -> dict[str, dict[str, Any]]:
        """The listed collection; threads asking for the same one at once share a single LIST."""
        with self._lock:
            collection = self._cached(key)
            if collection is not None:
                return collection
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                collection = self._cached(key)
                list_all = bool(key[2]) and self._listed[key[:2]] >= LIST_ALL_AFTER
            if collection is None and list_all and self._list_everywhere(key[:2]):
                with self._lock:
                    collection = self._cached(key)
            if collection is None:
                items = self.client.list(key[0], key[1], key[2] or None)
                collection = {item["metadata"]["name"]: item for item in items}
                with self._lock:
                    self._collections[key] = collection
                    self._listed[key[:2]] += 1
                    self._stale.discard(key)
        assert collection is not None
        return collection

    def _list_everywhere(self, type_key: TypeKey) -> bool:
        """List the type across all namespaces into the cache; False when that is forbidden."""
        with self._lock:
            if type_key in self._everywhere:
                return True
            if type_key in self._denied:
                return False
            loading = self._loading.setdefault((*type_key, "*"), threading.Lock())
        with loading:
            with self._lock:
                if type_key in self._everywhere or type_key in self._denied:
                    return type_key in self._everywhere
            try:
                items = self.client.list(type_key[0], type_key[1])
            except ClusterError as exc:
                if not isinstance(exc, Forbidden):
                    raise
                with self._lock:
                    self._denied.add(type_key)
                return False
            grouped: dict[str, dict[str, dict[str, Any]]] = {}
            for item in items:
                meta = item["metadata"]
                grouped.setdefault(meta.get("namespace", ""), {})[meta["name"]] = item
            with self._lock:
                for namespace, collection in grouped.items():
                    self._collections.setdefault((*type_key, namespace), collection)
                self._everywhere.add(type_key)
        return True

    def forget(self, obj: dict[str, Any]) -> None:
        """Drop the cached collection holding `obj` (after writing to it); it alone is listed again."""
        meta = obj.get("metadata") or {}
        type_key = (obj["apiVersion"], obj["kind"])
        with self._lock:
            if type_key in self._everywhere:
                self._stale.add((*type_key, meta.get("namespace", "")))
            for key in [k for k in self._collections if k[:2] == type_key]:
                if key[2] in ("", meta.get("namespace", "")):
                    del self._collections[key]
            for got in [g for g in self._got if g[0][:2] == type_key and g[1] == meta.get("name", "")]:
                del self._got[got]
