"""apiextensions: establish CustomResourceDefinitions, serve their types, clean up on delete."""

from __future__ import annotations

from typing import Any

from kubesim.cluster import Cluster
from kubesim.controllers.status import StatusWriter, condition, merge_conditions
from kubesim.controllers.timing import Timers
from kubesim.deletion import Deleter
from kubesim.errors import ApiError
from kubesim.registry import ResourceType, crd_types
from kubesim.resources import Resources, WriteOptions

Obj = dict[str, Any]
MANAGER = "kube-apiserver"  # apiextensions runs inside the API server
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
CRD_GROUP, CRD_PLURAL = "apiextensions.k8s.io", "customresourcedefinitions"
# Name fields checked against other CRDs of the same group: resource names clash with resource names,
# kinds with kinds (as the apiextensions naming controller does), each with its condition reason.
RESOURCE_NAMES = {
    "plural": "PluralConflict",
    "singular": "SingularConflict",
    "shortNames": "ShortNamesConflict",
}
KIND_NAMES = {"kind": "KindConflict", "listKind": "ListKindConflict"}


def _names_conflict(crd: Obj, others: list[Obj]) -> tuple[str, str] | None:
    """(reason, message) when a name of `crd` is already accepted by another CRD of its group."""
    group = crd["spec"].get("group")
    names = crd["spec"].get("names") or {}
    for fields in (RESOURCE_NAMES, KIND_NAMES):
        taken = set()
        for other in others:
            if other["metadata"]["name"] != crd["metadata"]["name"] and other["spec"].get("group") == group:
                accepted = (other.get("status") or {}).get("acceptedNames") or {}
                taken |= {v for k in fields for v in _as_list(accepted.get(k))}
        for field, reason in fields.items():
            for value in _as_list(names.get(field)):
                if value in taken:
                    return reason, f'"{value}" is already in use'
    return None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)] if value else []


def _accepted_names(crd: Obj) -> Obj:
    names = crd["spec"].get("names") or {}
    return {k: v for k, v in names.items() if v}


def _storage_version(crd: Obj) -> str:
    return next((v["name"] for v in crd["spec"].get("versions") or [] if v.get("storage")), "")


def is_established(crd: Obj) -> bool:
    """True when the CRD's `Established` condition is True."""
    return any(
        c.get("type") == "Established" and c.get("status") == "True"
        for c in (crd.get("status") or {}).get("conditions") or []
    )


class CrdController:
    """Turns CRD objects into served types, the way kube-apiserver's apiextensions controllers do."""

    def __init__(self, cluster: Cluster, timers: Timers, deleter: Deleter) -> None:
        self.cluster = cluster
        self.timers = timers
        self.deleter = deleter
        self.status = StatusWriter(cluster)
        self.resources = Resources(cluster)

    def _crd_type(self) -> ResourceType:
        rtype = self.cluster.registry.get(CRD_GROUP, "v1", CRD_PLURAL)
        if rtype is None:
            raise RuntimeError("the registry does not serve apiextensions.k8s.io/v1")
        return rtype

    def reconcile(self) -> bool:
        """One pass: conditions, registration, instance cleanup; True if anything changed."""
        crds, _ = self.cluster.store.list(CRD_GROUP, CRD_PLURAL)
        changed = False
        for crd in crds:
            if crd["metadata"].get("deletionTimestamp"):
                changed |= self._finalize(crd)
            else:
                changed |= self._establish(crd, crds)
        crds, _ = self.cluster.store.list(CRD_GROUP, CRD_PLURAL)
        return self._sync_registry(crds) or changed

    def _establish(self, crd: Obj, crds: list[Obj]) -> bool:
        old = crd.get("status") or {}
        conflict = _names_conflict(crd, crds)
        if conflict is not None:
            reason, message = conflict
            conditions = [
                condition("NamesAccepted", False, reason, message),
                condition("Established", False, "NotAccepted", "not all names are accepted"),
            ]
            status = {**old, "conditions": merge_conditions(old.get("conditions") or [], conditions)}
            return self.status.write(self._crd_type(), crd, status, MANAGER)
        ready = is_established(crd) or self.timers.elapsed(
            CRD_GROUP, CRD_PLURAL, crd, self.cluster.options.crd_delay
        )
        established = (
            condition("Established", True, "InitialNamesAccepted", "the initial names have been accepted")
            if ready
            else condition("Established", False, "Installing", "the initial names have been accepted")
        )
        conditions = [condition("NamesAccepted", True, "NoConflicts", "no conflicts found"), established]
        stored = list(old.get("storedVersions") or [])
        storage = _storage_version(crd)
        if storage and storage not in stored:
            stored.append(storage)
        status = {
            "acceptedNames": _accepted_names(crd),
            "conditions": merge_conditions(old.get("conditions") or [], conditions),
            "storedVersions": stored,
        }
        return self.status.write(self._crd_type(), crd, status, MANAGER)

    def _finalize(self, crd: Obj) -> bool:
        """A terminating CRD: delete its instances, then drop the cleanup finalizer."""
        if CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or []):
            return False
        types = crd_types(crd)
        remaining = self._delete_instances(types[0], force=False) if types else 0
        old = crd.get("status") or {}
        terminating = (
            condition(
                "Terminating", True, "InstanceDeletionInProgress", "CustomResource deletion is in progress"
            )
            if remaining
            else condition("Terminating", False, "InstanceDeletionCompleted", "removed all instances")
        )
        kept = [c for c in old.get("conditions") or [] if c.get("type") != "Terminating"]
        status = {**old, "conditions": merge_conditions(old.get("conditions") or [], [*kept, terminating])}
        changed = self.status.write(self._crd_type(), crd, status, MANAGER)
        if remaining:
            return changed
        live = self.cluster.store.get(self.cluster.key(self._crd_type(), "", crd["metadata"]["name"]))
        if live is None:
            return changed
        live["metadata"]["finalizers"] = [
            f for f in live["metadata"].get("finalizers") or [] if f != CLEANUP_FINALIZER
        ]
        try:
            self.resources.update(self._crd_type(), "", live["metadata"]["name"], live, WriteOptions(MANAGER))
        except ApiError as exc:
            if exc.code not in (404, 409):
                raise
            return changed
        return True

    def _delete_instances(self, rtype: ResourceType, force: bool) -> int:
        """Delete every custom resource of a type; returns how many are still stored."""
        store = self.cluster.store
        items, _ = store.list(rtype.group, rtype.plural)
        for item in items:
            meta = item["metadata"]
            key = self.cluster.key(rtype, meta.get("namespace", ""), meta["name"])
            if not meta.get("deletionTimestamp"):
                try:
                    self.deleter.delete(rtype, meta.get("namespace", ""), meta["name"], {})
                except ApiError as exc:
                    if exc.code != 404:
                        raise
            if force:
                gone = store.delete(key)
                if gone is not None:
                    self.cluster.notify_write(rtype, "DELETED", gone)
        return len(store.list(rtype.group, rtype.plural)[0])

    def _sync_registry(self, crds: list[Obj]) -> bool:
        """Serve exactly the types of established CRDs (terminating ones too, until they are gone).

        A type whose CRD no longer exists is removed, and its leftover instances with it.
        """
        registry = self.cluster.registry
        wanted: dict[tuple[str, str], list[ResourceType]] = {}
        for crd in crds:
            if is_established(crd):
                for rtype in crd_types(crd):
                    wanted.setdefault((rtype.group, rtype.plural), []).append(rtype)
        served: dict[tuple[str, str], list[ResourceType]] = {}
        for rtype in registry.all():
            if rtype.is_crd:
                served.setdefault((rtype.group, rtype.plural), []).append(rtype)
        changed = False
        for group_resource, types in served.items():
            if group_resource not in wanted:
                self._delete_instances(types[0], force=True)
                registry.remove_group_resource(*group_resource)
                changed = True
        for group_resource, types in wanted.items():
            types.sort(key=lambda t: t.version)  # the registry lists versions sorted, too
            if served.get(group_resource) != types:
                registry.remove_group_resource(*group_resource)
                for rtype in types:
                    registry.add(rtype)
                changed = True
        return changed
