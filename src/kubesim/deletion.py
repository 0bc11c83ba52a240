"""DELETE with finalizers, propagation policies, garbage collection and namespace finalization."""

from __future__ import annotations

import copy
from typing import Any

from kubesim.cluster import Cluster, now_rfc3339
from kubesim.errors import ApiError, conflict_modified, not_found
from kubesim.registry import ResourceType
from kubesim.store import Key

Obj = dict[str, Any]
POLICIES = ("Orphan", "Background", "Foreground")


class Deleter:
    """Deletes objects of a `Cluster` the way the API server and its garbage collector do."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._busy = False
        # Whether a write since the last pass may have left work (an object being deleted, one with
        # owners, a deletion that may orphan dependents); the pass reads the whole store, so a run
        # of plain creates must not trigger one per write.
        self._dirty = True
        cluster.write_hooks.append(self._on_write)

    def _on_write(self, rtype: ResourceType, event: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        if event == "DELETED" or meta.get("deletionTimestamp") or meta.get("ownerReferences"):
            self._dirty = True

    def delete(
        self, rtype: ResourceType, namespace: str, name: str, options: dict[str, Any], dry_run: bool = False
    ) -> tuple[int, Obj]:
        """Delete one object; returns (HTTP code, body): a Status when gone, the object while pending."""
        store = self.cluster.store
        key = self.cluster.key(rtype, namespace, name)
        with store.lock:
            obj = store.get(key)
            if obj is None:
                raise not_found(rtype.plural, rtype.group, name)
            _check_preconditions(rtype, name, obj["metadata"], options.get("preconditions") or {})
            finalizers = _finalizers_for(obj["metadata"], _propagation_policy(options))
            is_namespace = rtype.group == "" and rtype.plural == "namespaces"
            if finalizers or is_namespace:
                if dry_run:
                    return 200, obj
                return self._start_deleting(rtype, key, obj, finalizers, is_namespace)
            if dry_run:
                return 200, self._success(rtype, obj)
            gone = store.delete(key)
            if gone is not None:
                self.cluster.notify_write(rtype, "DELETED", gone)
            self.reconcile()
            return 200, self._success(rtype, obj)

    def _start_deleting(
        self, rtype: ResourceType, key: Key, obj: Obj, finalizers: list[str], is_namespace: bool
    ) -> tuple[int, Obj]:
        """Mark an object with finalizers (or a namespace) as being deleted, then let the pass run."""
        store = self.cluster.store
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = now_rfc3339()
            meta["deletionGracePeriodSeconds"] = 0
            if rtype.tracks_generation:
                meta["generation"] = int(meta.get("generation", 1)) + 1
        meta["finalizers"] = finalizers
        if not finalizers:
            meta.pop("finalizers")
        if is_namespace:
            obj.setdefault("status", {})["phase"] = "Terminating"
        stored = store.put(key, obj)
        self.cluster.notify_write(rtype, "MODIFIED", stored)
        self.reconcile()
        current = store.get(key)
        if current is None:
            return 200, self._success(rtype, obj)
        return (200 if is_namespace else 202), current

    def _success(self, rtype: ResourceType, obj: Obj) -> Obj:
        details: dict[str, Any] = {"name": obj["metadata"]["name"]}
        if rtype.group:
            details["group"] = rtype.group
        details["kind"] = rtype.plural
        details["uid"] = obj["metadata"].get("uid")
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def _type_of(self, key: tuple[str, str, str, str], obj: Obj) -> ResourceType | None:
        group, version = (
            ([*obj.get("apiVersion", "").rsplit("/", 1), ""])[:2]
            if "/" in obj.get("apiVersion", "")
            else ("", obj.get("apiVersion", ""))
        )
        rtype = self.cluster.registry.get(group, version, key[1])
        if rtype is None:
            for candidate in self.cluster.registry.all():
                if candidate.group == key[0] and candidate.plural == key[1]:
                    return candidate
        return rtype

    def _finish_finalizer(self, key: tuple[str, str, str, str], obj: Obj, finalizer: str) -> None:
        meta = obj["metadata"]
        meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != finalizer]
        rtype = self._type_of(key, obj)
        if rtype is None:
            return
        if not meta["finalizers"]:
            meta.pop("finalizers")
            gone = self.cluster.store.delete(key)
            if gone is not None:
                self.cluster.notify_write(rtype, "DELETED", gone)
        else:
            stored = self.cluster.store.put(key, obj)
            self.cluster.notify_write(rtype, "MODIFIED", stored)

    def reconcile(self) -> bool:
        """Garbage collection and namespace finalization until settled; True when something changed."""
        with self.cluster.store.lock:
            if self._busy or not self._dirty:
                return False
            self._busy = True
            try:
                changed = False
                for _ in range(20):
                    self._dirty = False
                    if not self._reconcile_once():
                        break
                    changed = True
                return changed
            finally:
                self._busy = False

    def _reconcile_once(self) -> bool:
        store = self.cluster.store
        changed = False
        with store.lock:
            objects = store.snapshot()
            uids = {o["metadata"].get("uid"): k for k, o in objects.items() if o is not None}
            dependents: dict[str, list[Key]] = {}
            for key, obj in objects.items():
                for ref in (obj or {}).get("metadata", {}).get("ownerReferences") or []:
                    dependents.setdefault(ref.get("uid"), []).append(key)
            for key, obj in objects.items():
                if store.has(key):  # else deleted earlier in this pass
                    changed |= self._settle(key, obj, uids, dependents.get(obj["metadata"].get("uid"), []))
        return changed

    def _settle(self, key: Key, obj: Obj, uids: dict[str, Key], dependents: list[Key]) -> bool:
        """One object's step: collect an orphan, or advance its deletion; True when it changed."""
        meta = obj["metadata"]
        refs = meta.get("ownerReferences") or []
        if refs and not meta.get("deletionTimestamp") and all(r.get("uid") not in uids for r in refs):
            return self._delete_key(key, obj)
        if not meta.get("deletionTimestamp"):
            return False
        changed = False
        finalizers = meta.get("finalizers") or []
        if "orphan" in finalizers:
            self._orphan(meta.get("uid"), dependents)
            self._finish_finalizer(key, copy.deepcopy(obj), "orphan")
            changed = True
        elif "foregroundDeletion" in finalizers:
            changed = self._delete_foreground(key, obj, dependents)
        if key[:2] == ("", "namespaces"):
            changed |= self._finalize_namespace(key, obj)
        return changed

    def _orphan(self, owner_uid: str | None, dependents: list[Key]) -> None:
        """The `orphan` finalizer: dependents lose their owner reference and stay."""
        store = self.cluster.store
        for dep in dependents:
            dep_obj = store.get(dep)
            if dep_obj is None:
                continue
            dep_meta = dep_obj["metadata"]
            dep_meta["ownerReferences"] = [
                r for r in dep_meta.get("ownerReferences", []) if r.get("uid") != owner_uid
            ]
            if not dep_meta["ownerReferences"]:
                dep_meta.pop("ownerReferences")
            store.put(dep, dep_obj)

    def _delete_foreground(self, key: Key, obj: Obj, dependents: list[Key]) -> bool:
        """`foregroundDeletion`: delete the dependents; the owner goes once none is left."""
        store = self.cluster.store
        changed = False
        for dep in [d for d in dependents if store.get(d) is not None]:
            changed |= self._delete_key(dep, store.get(dep) or {})
        if not [d for d in dependents if store.get(d) is not None]:
            self._finish_finalizer(key, copy.deepcopy(obj), "foregroundDeletion")
            changed = True
        return changed

    def _delete_key(self, key: tuple[str, str, str, str], obj: Obj) -> bool:
        rtype = self._type_of(key, obj)
        if rtype is None or obj.get("metadata", {}).get("deletionTimestamp"):
            return False
        try:
            self.delete(rtype, key[2], key[3], {"propagationPolicy": "Background"})
        except ApiError:
            return False
        return True

    def _finalize_namespace(self, key: tuple[str, str, str, str], obj: Obj) -> bool:
        store = self.cluster.store
        name = key[3]
        contents = store.keys(namespace=name)
        changed = False
        for item in contents:
            item_obj = store.get(item)
            if item_obj is not None:
                changed |= self._delete_key(item, item_obj)
        if store.keys(namespace=name):
            return changed
        current = store.get(key)
        if current is None:
            return changed
        spec_finalizers = (current.get("spec") or {}).get("finalizers") or []
        if "kubernetes" in spec_finalizers:
            current["spec"]["finalizers"] = [f for f in spec_finalizers if f != "kubernetes"]
        if not current["metadata"].get("finalizers"):
            rtype = self._type_of(key, current)
            gone = store.delete(key)
            if gone is not None and rtype is not None:
                self.cluster.notify_write(rtype, "DELETED", gone)
            return True
        return changed


def _check_preconditions(rtype: ResourceType, name: str, meta: Obj, pre: dict[str, Any]) -> None:
    """DeleteOptions.preconditions: a 409 when the uid or resourceVersion is not the object's."""
    if pre.get("uid") and pre["uid"] != meta.get("uid"):
        raise ApiError(
            409,
            "Conflict",
            f"Precondition failed: UID in precondition: {pre['uid']}, "
            f"UID in object meta: {meta.get('uid')}",
            {"name": name, "group": rtype.group, "kind": rtype.plural}
            if rtype.group
            else {"name": name, "kind": rtype.plural},
        )
    if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
        raise conflict_modified(rtype.plural, rtype.group, name)


def _propagation_policy(options: dict[str, Any]) -> str | None:
    """`propagationPolicy`, or the deprecated `orphanDependents`; a 422 for an unknown value."""
    policy: str | None = options.get("propagationPolicy")
    if policy is None and options.get("orphanDependents") is not None:
        policy = "Orphan" if options["orphanDependents"] else "Background"
    if policy is not None and policy not in POLICIES:
        raise ApiError(
            422,
            "Invalid",
            f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: '
            f'Unsupported value: "{policy}": supported values: "Foreground", "Background", '
            '"Orphan", "nil"',
        )
    return policy


def _finalizers_for(meta: Obj, policy: str | None) -> list[str]:
    """The object's finalizers plus the one its propagation policy adds."""
    finalizers = list(meta.get("finalizers") or [])
    if policy == "Foreground" and "foregroundDeletion" not in finalizers:
        finalizers.append("foregroundDeletion")
    if policy == "Orphan" and "orphan" not in finalizers:
        finalizers.append("orphan")
    return finalizers
