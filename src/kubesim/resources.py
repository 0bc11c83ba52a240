"""Write verbs on objects (create, update, patch, apply) with the real server's pipeline.

Each write runs: system metadata → defaulting → pruning/validation → generation →
managedFields → no-op check → store (unless dry run) → hooks. Errors are `ApiError`s.
"""

from __future__ import annotations

import copy
import functools
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from kubesim import apply as ssa
from kubesim.cluster import Cluster, new_uid, now_rfc3339
from kubesim.defaults import apply_defaults, keep_allocated
from kubesim.errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict_modified,
    forbidden_terminating,
    invalid,
    not_found,
)
from kubesim.patch import json_patch, merge_patch, strategic_merge_patch
from kubesim.quantity import canonicalize_quantities
from kubesim.registry import ResourceType
from kubesim.validation import validate_name, validate_object, validate_update

Obj = dict[str, Any]
SYSTEM_METADATA = (
    "uid",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "resourceVersion",
    "selfLink",
)


F = TypeVar("F", bound=Callable[..., Any])


def _atomic(verb: F) -> F:
    """Run a write verb under the store lock: its read, checks and write are one step, so two
    concurrent writers cannot both start from the same old object (kube-apiserver gets this from
    etcd's compare-and-swap on the resourceVersion)."""

    @functools.wraps(verb)
    def locked(self: Resources, *args: Any, **kwargs: Any) -> Any:
        with self.cluster.store.lock:
            return verb(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


@dataclass(slots=True)
class WriteOptions:
    """Query options common to writes."""

    manager: str = ""
    dry_run: bool = False
    field_validation: str = "Strict"
    subresource: str = ""
    warnings: list[str] | None = None


class Resources:
    """Create, update, patch and apply objects of a `Cluster`."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.schema = cluster.schema

    # ---- helpers ---------------------------------------------------------------------------
    def _check_namespace(self, rtype: ResourceType, namespace: str, name: str) -> None:
        if not rtype.namespaced:
            return
        phase = self.cluster.namespace_phase(namespace)
        if phase is None:
            raise not_found("namespaces", "", namespace)
        if phase == "Terminating":
            raise forbidden_terminating(rtype.plural, rtype.group, name, namespace)

    def _decode(self, rtype: ResourceType, body: Obj, opts: WriteOptions, verb: str) -> Obj:
        """Check apiVersion/kind, then handle unknown fields per fieldValidation."""
        if not isinstance(body, dict):
            raise bad_request("Object 'Kind' is missing in the request body")
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if kind is None and verb != "patch":
            raise bad_request("Object 'Kind' is missing in the request body")
        if kind is not None and kind != rtype.kind:
            raise bad_request(
                f"the kind in the request body ({kind}) does not match the kind of the "
                f"resource ({rtype.kind})"
            )
        if api_version is not None and api_version != rtype.api_version and verb != "patch":
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({rtype.api_version})"
            )
        body = self._canonical(rtype, body)
        body["apiVersion"], body["kind"] = rtype.api_version, rtype.kind
        unknown = ssa.undeclared_fields(self.schema, body, rtype.root)
        if unknown:
            if opts.field_validation == "Strict":
                fields = ", ".join(f'unknown field "{u}"' for u in unknown)
                raise bad_request(
                    f'{rtype.kind} in version "{rtype.version}" cannot be handled as a '
                    f"{rtype.kind}: strict decoding error: {fields}"
                )
            if opts.field_validation == "Warn" and opts.warnings is not None:
                opts.warnings += [f'unknown field "{u}"' for u in unknown]
            self._prune(rtype, body)
        return body

    def _canonical(self, rtype: ResourceType, body: Obj) -> Obj:
        """A copy of a request body as the server decodes it: quantities canonical (built-ins only)."""
        if rtype.is_crd:
            return copy.deepcopy(body)
        canonical: Obj = canonicalize_quantities(self.schema, body, rtype.root)
        return canonical

    def _prune(self, rtype: ResourceType, obj: Obj) -> None:
        for path in ssa.undeclared_fields(self.schema, obj, rtype.root):
            parts = path.replace("]", "").replace("[", ".").split(".")
            current: Any = obj
            for part in parts[:-1]:
                current = current[int(part)] if isinstance(current, list) else current.get(part, {})
            if isinstance(current, dict):
                current.pop(parts[-1], None)

    def _finish(self, rtype: ResourceType, old: Obj | None, new: Obj, opts: WriteOptions) -> Obj:
        """Defaults, validation, generation, no-op check and the store write."""
        meta = new.setdefault("metadata", {})
        if old is not None:
            _carry_over(rtype, old, new, opts)
        apply_defaults(new, self.cluster.service_ips if not opts.dry_run else None, creating=old is None)
        if rtype.is_crd:
            self._prune(rtype, new)
        causes = validate_name(rtype.group, rtype.kind, meta.get("name", ""))
        causes += validate_object(new)
        if old is not None:
            causes += validate_update(old, new)
        if causes:
            raise invalid(rtype.kind, rtype.group, meta.get("name", ""), causes)
        if old is not None and rtype.tracks_generation and _spec_of(old) != _spec_of(new):
            meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        if old is not None and _same(old, new):
            return old
        store_key = self.cluster.key(rtype, meta.get("namespace", ""), meta["name"])
        if opts.dry_run:
            if old is None:
                meta.pop("resourceVersion", None)
            return new
        if old is not None and meta.get("deletionTimestamp") and not meta.get("finalizers"):
            gone = self.cluster.store.delete(store_key)
            if gone is not None:
                self.cluster.notify_write(rtype, "DELETED", gone)
                meta["resourceVersion"] = gone["metadata"]["resourceVersion"]
            return new  # the real server answers with the object as the update left it
        stored = self.cluster.store.put(store_key, new)
        self.cluster.notify_write(rtype, "ADDED" if old is None else "MODIFIED", stored)
        return stored

    def _new_metadata(self, rtype: ResourceType, obj: Obj, namespace: str) -> None:
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(
                random.choices(string.ascii_lowercase + string.digits, k=5)
            )
        for key in SYSTEM_METADATA:
            meta.pop(key, None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = now_rfc3339()
        if rtype.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if rtype.tracks_generation:
            meta["generation"] = 1
        if rtype.has_status and not rtype.is_crd and rtype.kind not in ("Namespace",):
            obj.pop("status", None)
        elif rtype.is_crd:
            obj.pop("status", None) if rtype.has_status else None

    def get(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        """The stored object, or 404."""
        obj = self.cluster.store.get(self.cluster.key(rtype, namespace, name))
        if obj is None:
            raise not_found(rtype.plural, rtype.group, name)
        return obj

    # ---- verbs -----------------------------------------------------------------------------
    @_atomic
    def create(self, rtype: ResourceType, namespace: str, body: Obj, opts: WriteOptions) -> Obj:
        """POST: 201 with the created object; 409 when the name is taken."""
        obj = self._decode(rtype, body, opts, "create")
        meta = obj.setdefault("metadata", {})
        if rtype.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        if meta.get("managedFields"):
            meta.pop("managedFields")
        self._new_metadata(rtype, obj, namespace)
        name = meta.get("name", "")
        causes = validate_name(rtype.group, rtype.kind, name)
        if causes:
            raise invalid(rtype.kind, rtype.group, name, causes)
        self._check_namespace(rtype, namespace, name)
        if self.cluster.store.get(self.cluster.key(rtype, namespace, name)) is not None:
            raise already_exists(rtype.plural, rtype.group, name)
        apply_defaults(obj, None, creating=True)
        meta["managedFields"] = ssa.record_update(
            self.schema, rtype.root, None, obj, opts.manager, rtype.api_version, now_rfc3339()
        )
        return self._finish(rtype, None, obj, opts)

    @_atomic
    def update(self, rtype: ResourceType, namespace: str, name: str, body: Obj, opts: WriteOptions) -> Obj:
        """PUT: replace the object (or its status); 409 on a stale resourceVersion."""
        obj = self._decode(rtype, body, opts, "update")
        meta = obj.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        old = self.get(rtype, namespace, name)
        wanted_rv = meta.get("resourceVersion")
        if wanted_rv and wanted_rv != old["metadata"].get("resourceVersion"):
            raise conflict_modified(rtype.plural, rtype.group, name)
        if opts.subresource == "status":
            status = obj.get("status")
            obj = copy.deepcopy(old)
            if status is None:
                obj.pop("status", None)
            else:
                obj["status"] = status
        return self._update_from(rtype, old, obj, opts)

    def _update_from(self, rtype: ResourceType, old: Obj, obj: Obj, opts: WriteOptions) -> Obj:
        meta = obj.setdefault("metadata", {})
        if "managedFields" not in meta or meta["managedFields"] is None:
            meta["managedFields"] = old["metadata"].get("managedFields", [])
        candidate = copy.deepcopy(obj)
        for key in SYSTEM_METADATA:
            if key in old["metadata"]:
                candidate["metadata"][key] = old["metadata"][key]
        if rtype.has_status and opts.subresource != "status":
            candidate["status"] = copy.deepcopy(old.get("status")) if "status" in old else None
            if candidate["status"] is None:
                candidate.pop("status")
        apply_defaults(candidate, None)
        base = copy.deepcopy(old)
        base["metadata"]["managedFields"] = meta["managedFields"]
        meta["managedFields"] = ssa.record_update(
            self.schema,
            rtype.root,
            base,
            candidate,
            opts.manager,
            rtype.api_version,
            now_rfc3339(),
            opts.subresource,
        )
        return self._finish(rtype, old, obj, opts)

    @_atomic
    def patch(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        patch_type: str,
        body: Any,
        opts: WriteOptions,
        force: bool = False,
    ) -> tuple[Obj, bool]:
        """PATCH of any type; returns the object and whether it was created (apply only)."""
        if patch_type == "apply":
            return self.apply(rtype, namespace, name, body, opts, force)
        old = self.get(rtype, namespace, name)
        if patch_type == "merge":
            if not isinstance(body, dict):
                raise bad_request("json: cannot unmarshal into Go value of type map[string]interface {}")
            new = merge_patch(old, body)
        elif patch_type == "json":
            new = json_patch(old, body)
        else:
            if rtype.is_crd:
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    "the body of the request was in an unknown format - "
                    "accepted media types include: application/json-patch+json, "
                    "application/merge-patch+json, application/apply-patch+yaml",
                )
            new = strategic_merge_patch(self.schema, old, body, rtype.root)
        if not isinstance(new, dict):
            raise bad_request("the patch did not produce an object")
        wanted_rv = (new.get("metadata") or {}).get("resourceVersion")
        if wanted_rv and wanted_rv != old["metadata"].get("resourceVersion"):
            raise conflict_modified(rtype.plural, rtype.group, name)
        new = self._decode(rtype, new, opts, "patch")
        if opts.subresource == "status":
            status = new.get("status")
            new = copy.deepcopy(old)
            new["status"] = status
        return self._update_from(rtype, old, new, opts), False

    @_atomic
    def apply(
        self, rtype: ResourceType, namespace: str, name: str, body: Any, opts: WriteOptions, force: bool
    ) -> tuple[Obj, bool]:
        """Server-side apply (create when missing)."""
        meta = _check_apply_body(rtype, namespace, name, body, opts.manager)
        applied = self._canonical(rtype, body)
        applied["metadata"] = {k: v for k, v in meta.items() if k not in SYSTEM_METADATA}
        if rtype.namespaced:
            applied["metadata"]["namespace"] = namespace
        if opts.subresource != "status" and rtype.has_status:
            applied.pop("status", None)
        self._check_typed(rtype, applied, namespace, name)
        old = self.cluster.store.get(self.cluster.key(rtype, namespace, name))
        if old is None:
            self._check_namespace(rtype, namespace, name)
        elif meta.get("resourceVersion") not in (None, "", old["metadata"].get("resourceVersion")):
            # a resourceVersion in an apply body is a precondition, as kube-apiserver treats it
            raise conflict_modified(rtype.plural, rtype.group, name)
        request = ssa.ApplyRequest(
            opts.manager,
            force,
            rtype.api_version,
            now_rfc3339(),
            opts.subresource,
            rtype.kind,
            rtype.group,
            name,
        )
        live = None
        if old is not None:
            live = copy.deepcopy(old)
        merged = ssa.apply_object(self.schema, rtype.root, live, applied, request)
        if old is None:
            causes = validate_name(rtype.group, rtype.kind, name)
            if causes:
                raise invalid(rtype.kind, rtype.group, name, causes)
            self._new_metadata(rtype, merged, namespace)
            merged["metadata"]["name"] = name
            return self._finish(rtype, None, merged, opts), True
        return self._finish(rtype, old, merged, opts), False

    def _check_typed(self, rtype: ResourceType, applied: Obj, namespace: str, name: str) -> None:
        """The apply body as a typed object: every field declared, list-map items keyed (a 500 as
        the real server's structured-merge-diff answers)."""
        unknown = ssa.undeclared_fields(self.schema, applied, rtype.root, smd_style=True)
        ns_name = f"{namespace}/{name}" if rtype.namespaced else name
        gvk = f"{rtype.api_version if rtype.group else '/' + rtype.version}, Kind={rtype.kind}"
        if unknown:
            raise ApiError(
                500,
                "",
                f"failed to create typed patch object ({ns_name}; {gvk}): "
                f"{unknown[0]}: field not declared in schema",
            )
        try:
            ssa.default_list_keys(self.schema, applied, rtype.root)
        except ApiError as exc:
            raise ApiError(
                500, "", f"failed to create typed patch object ({ns_name}; {gvk}): {exc.message.lstrip('.')}"
            ) from exc


def _carry_over(rtype: ResourceType, old: Obj, new: Obj, opts: WriteOptions) -> None:
    """What a write cannot change: system metadata, name, namespace, a Service's allocated IPs and
    node ports the body leaves out, and (but through the status subresource) the status."""
    meta = new["metadata"]
    for key in SYSTEM_METADATA:
        if key in old["metadata"]:
            meta[key] = old["metadata"][key]
        else:
            meta.pop(key, None)
    meta["name"] = old["metadata"]["name"]
    if rtype.namespaced:
        meta["namespace"] = old["metadata"]["namespace"]
    keep_allocated(old, new)
    if rtype.has_status and opts.subresource != "status":
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        else:
            new.pop("status", None)


def _check_apply_body(rtype: ResourceType, namespace: str, name: str, body: Any, manager: str) -> Obj:
    """Refuse an apply as the real server does (400s); returns the body's metadata."""
    if not manager:
        raise bad_request("PATCH, application/apply-patch+yaml requires fieldManager to be set")
    if not isinstance(body, dict):
        raise bad_request("error decoding YAML: the apply body must be an object")
    if body.get("apiVersion") != rtype.api_version or body.get("kind") != rtype.kind:
        if not body.get("kind"):
            raise bad_request("Object 'Kind' is missing in '" + _compact(body) + "'")
        if not body.get("apiVersion"):
            raise bad_request(f"Object 'apiVersion' is missing in '{_compact(body)}'")
        raise bad_request(
            f"Incorrect version specified in apply patch. Specified patch version: "
            f"{body.get('apiVersion')}, expected: {rtype.api_version}"
        )
    meta: Obj = body.get("metadata") or {}
    if meta.get("name") != name:
        raise bad_request(
            f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
        )
    if rtype.namespaced and meta.get("namespace") not in (None, namespace):
        raise bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    if meta.get("managedFields"):
        raise bad_request("metadata.managedFields must be nil")
    return meta


def _spec_of(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _same(old: Obj, new: Obj) -> bool:
    a = copy.deepcopy(old)
    b = copy.deepcopy(new)
    a["metadata"].pop("resourceVersion", None)
    b["metadata"].pop("resourceVersion", None)
    return a == b


def _compact(body: Any) -> str:
    import json

    return json.dumps(body, separators=(",", ":"))
