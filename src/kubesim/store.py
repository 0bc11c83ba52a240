"""Object storage: a versioned key/value store with an event history for watches (no HTTP here).

Keys are `(group, resource, namespace, name)`; `namespace` is "" for cluster-scoped objects. Every
persisted write takes the next value of one global counter as its resourceVersion, like etcd's
revision, and appends an event to a bounded history that watches read from.
"""

from __future__ import annotations

import builtins
import copy
import json
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Key = tuple[str, str, str, str]
Obj = dict[str, Any]

HISTORY_SIZE = 10000  # events kept for watches; an older resourceVersion answers 410 Expired


@dataclass(frozen=True, slots=True)
class Event:
    """One change: its resourceVersion, type (ADDED/MODIFIED/DELETED), key and object."""

    resource_version: int
    type: str
    key: Key
    object: Obj


class Store:
    """Objects and their history. All methods are thread-safe; returned objects are copies."""

    def __init__(self, history_size: int = HISTORY_SIZE) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._objects: dict[Key, Obj] = {}
        # (group, resource) → namespace → objects: a LIST reads only its own collection
        self._collections: dict[tuple[str, str], dict[str, dict[Key, Obj]]] = {}
        self._rv = 1
        self._history: deque[Event] = deque(maxlen=history_size)
        self._compacted_rv = 1

    @property
    def resource_version(self) -> int:
        """The current (latest) resourceVersion."""
        with self.lock:
            return self._rv

    @property
    def oldest_watchable(self) -> int:
        """The oldest resourceVersion a watch may start from without a 410."""
        with self.lock:
            return self._history[0].resource_version - 1 if self._history else self._compacted_rv

    def next_resource_version(self) -> int:
        """Reserve the next resourceVersion (used for dry runs, which store nothing)."""
        with self.lock:
            return self._rv + 1

    def get(self, key: Key) -> Obj | None:
        """A copy of the stored object, or None."""
        with self.lock:
            obj = self._objects.get(key)
            return copy.deepcopy(obj) if obj is not None else None

    def list(self, group: str, resource: str, namespace: str | None = None) -> tuple[list[Obj], int]:
        """Copies of all objects of a resource (in a namespace, or all), sorted, and the list RV."""
        with self.lock:
            of_type = self._collections.get((group, resource), {})
            if namespace is None:
                chosen = {key: obj for collection in of_type.values() for key, obj in collection.items()}
            else:
                chosen = of_type.get(namespace, {})
            items = [copy.deepcopy(chosen[key]) for key in sorted(chosen)]
            return items, self._rv

    def has(self, key: Key) -> bool:
        """Whether an object is stored under `key`."""
        with self.lock:
            return key in self._objects

    def snapshot(self) -> dict[Key, Obj]:
        """Every stored object by key, *not* copied: read them only, and copy one before changing it.

        A store write replaces an object and never changes one in place, so the snapshot stays as it
        was taken; the garbage collector reads the whole store this way on every pass.
        """
        with self.lock:
            return dict(self._objects)

    def keys(self, namespace: str | None = None) -> builtins.list[Key]:
        """Every stored key (in a namespace, if given)."""
        with self.lock:
            return [k for k in self._objects if namespace is None or k[2] == namespace]

    def put(self, key: Key, obj: Obj) -> Obj:
        """Store `obj` under a new resourceVersion; emits ADDED or MODIFIED. Returns a copy."""
        with self.lock:
            self._rv += 1
            stored = copy.deepcopy(obj)
            stored.setdefault("metadata", {})["resourceVersion"] = str(self._rv)
            kind = "MODIFIED" if key in self._objects else "ADDED"
            self._objects[key] = stored
            self._collections.setdefault(key[:2], {}).setdefault(key[2], {})[key] = stored
            self._record(Event(self._rv, kind, key, stored))
            return copy.deepcopy(stored)

    def delete(self, key: Key) -> Obj | None:
        """Remove an object; emits DELETED carrying a new resourceVersion. Returns the last state."""
        with self.lock:
            obj = self._objects.pop(key, None)
            if obj is None:
                return None
            del self._collections[key[:2]][key[2]][key]
            self._rv += 1
            gone = copy.deepcopy(obj)
            gone["metadata"]["resourceVersion"] = str(self._rv)
            self._record(Event(self._rv, "DELETED", key, gone))
            return copy.deepcopy(gone)

    def _record(self, event: Event) -> None:
        if len(self._history) == self._history.maxlen:
            self._compacted_rv = self._history[0].resource_version
        self._history.append(event)
        self.changed.notify_all()

    def events_after(self, resource_version: int) -> builtins.list[Event]:
        """Events newer than `resource_version`, oldest first."""
        with self.lock:
            return [e for e in self._history if e.resource_version > resource_version]

    def compact(self) -> None:
        """Forget the event history (a watch from an older resourceVersion then gets 410)."""
        with self.lock:
            self._history.clear()
            self._compacted_rv = self._rv

    def wait(self, after: int, timeout: float) -> None:
        """Block until a write newer than `after` happens, or `timeout` seconds pass."""
        with self.changed:
            if self._rv <= after:
                self.changed.wait(timeout)

    def save(self, path: Path) -> None:
        """Write every object and the counter to a JSON file (for `serve --state`)."""
        with self.lock:
            data = {"resourceVersion": self._rv, "objects": [[list(k), o] for k, o in self._objects.items()]}
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(path)

    def load(self, path: Path) -> None:
        """Read objects saved by `save`; the history starts empty."""
        data = json.loads(path.read_text(encoding="utf-8"))
        with self.lock:
            self._objects = {tuple(k): o for k, o in data["objects"]}
            self._collections = {}
            for key, obj in self._objects.items():
                self._collections.setdefault(key[:2], {}).setdefault(key[2], {})[key] = obj
            self._rv = int(data["resourceVersion"])
            self._compacted_rv = self._rv
            self._history.clear()
