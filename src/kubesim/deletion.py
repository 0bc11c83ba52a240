"""DELETE with finalizers, propagation policies, garbage collection and namespace finalization."""

from __future__ import annotations

import copy
from typing import Any

from kubesim.cluster import Cluster, now_rfc3339
from kubesim.errors import ApiError, conflict_modified, not_found
from kubesim.registry import ResourceType

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
            meta = obj["metadata"]
            pre = options.get("preconditions") or {}
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
            policy = options.get("propagationPolicy")
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
            finalizers = list(meta.get("finalizers") or [])
            if policy == "Foreground" and "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
            if policy == "Orphan" and "orphan" not in finalizers:
                finalizers.append("orphan")
            is_namespace = rtype.group == "" and rtype.plural == "namespaces"
            if finalizers or is_namespace:
                if dry_run:
                    return 200, obj
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
                code = 200 if is_namespace else 202
                self.reconcile()
                current = store.get(key)
                if current is None:
                    return 200, self._success(rtype, obj)
                return code, current
            if dry_run:
                return 200, self._success(rtype, obj)
            gone = store.delete(key)
            if gone is not None:
                self.cluster.notify_write(rtype, "DELETED", gone)
            self.reconcile()
            return 200, self._success(rtype, obj)

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
            dependents: dict[str, list[tuple[str, str, str, str]]] = {}
            for key, obj in objects.items():
                for ref in (obj or {}).get("metadata", {}).get("ownerReferences") or []:
                    dependents.setdefault(ref.get("uid"), []).append(key)
            for key, obj in objects.items():
                if not store.has(key):  # deleted earlier in this pass
                    continue
                meta = obj["metadata"]
                refs = meta.get("ownerReferences") or []
                if refs and not meta.get("deletionTimestamp") and all(r.get("uid") not in uids for r in refs):
                    changed |= self._delete_key(key, obj)
                    continue
                if not meta.get("deletionTimestamp"):
                    continue
                finalizers = meta.get("finalizers") or []
                mine = dependents.get(meta.get("uid"), [])
                if "orphan" in finalizers:
                    for dep in mine:
                        dep_obj = store.get(dep)
                        if dep_obj is not None:
                            dep_obj["metadata"]["ownerReferences"] = [
                                r
                                for r in dep_obj["metadata"].get("ownerReferences", [])
                                if r.get("uid") != meta.get("uid")
                            ]
                            if not dep_obj["metadata"]["ownerReferences"]:
                                dep_obj["metadata"].pop("ownerReferences")
                            store.put(dep, dep_obj)
                    self._finish_finalizer(key, copy.deepcopy(obj), "orphan")
                    changed = True
                elif "foregroundDeletion" in finalizers:
                    alive = [d for d in mine if store.get(d) is not None]
                    for dep in alive:
                        changed |= self._delete_key(dep, store.get(dep) or {})
                    if not [d for d in mine if store.get(d) is not None]:
                        self._finish_finalizer(key, copy.deepcopy(obj), "foregroundDeletion")
                        changed = True
                if key[:2] == ("", "namespaces"):
                    changed |= self._finalize_namespace(key, obj)
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
