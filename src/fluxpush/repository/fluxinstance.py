"""The root a Flux Operator `FluxInstance` defines, as the operator generates it.

`spec.sync` makes the operator create a source (`GitRepository`, `OCIRepository` or `Bucket`) and a
Kustomization, both named after the FluxInstance's namespace (as `flux bootstrap` names them):
`spec.path` from `sync.path`, `prune: true`, `interval` from `sync.interval` (default 1m), the
source from `sync.kind`/`url`/`ref`. `spec.kustomize.patches` whose target selects that
Kustomization (kind, name as a regular expression) are applied to it — a JSON 6902 list of
operations or a strategic-merge mapping — which is how such repositories add `decryption` or
`postBuild` to their root.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from fluxpush.errors import FluxpushError, InputError
from fluxpush.flux.inert import FLUX_OPERATOR_GROUP
from fluxpush.yamldoc import load_documents

SYNC_INTERVAL = "1m"


def is_flux_instance(obj: dict[str, Any]) -> bool:
    """Whether a rendered object is a FluxInstance."""
    api_version = str(obj.get("apiVersion", ""))
    return api_version.startswith(FLUX_OPERATOR_GROUP + "/") and obj.get("kind") == "FluxInstance"


def _git_ref(ref: str) -> dict[str, str]:
    for prefix, key in (("refs/heads/", "branch"), ("refs/tags/", "tag")):
        if ref.startswith(prefix):
            return {key: ref.removeprefix(prefix)}
    return {"name": ref} if ref.startswith("refs/") else {"branch": ref} if ref else {}


def _selects(target: Any, ks: dict[str, Any]) -> bool:
    if not isinstance(target, dict):
        return False
    for field, actual in (("kind", ks["kind"]), ("name", ks["metadata"]["name"])):
        wanted = target.get(field)
        if wanted and not re.fullmatch(str(wanted), actual):
            return False
    group = target.get("group")
    return not group or group == "kustomize.toolkit.fluxcd.io"


def _pointer(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def _json6902(doc: dict[str, Any], operations: list[Any], where: str) -> dict[str, Any]:
    for op in operations:
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
            raise InputError(f"patch operation {op!r} is not supported here (add, replace, remove)",
                             obj=where, field="spec.kustomize.patches")
        try:
            _apply_operation(doc, op)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:
            raise InputError(f"patch operation {op['op']} {op.get('path')!r} does not apply to the sync "
                             "Kustomization", obj=where, field="spec.kustomize.patches") from exc
    return doc


def _apply_operation(doc: dict[str, Any], op: dict[str, Any]) -> None:
    *parents, last = _pointer(str(op.get("path", "")))
    node: Any = doc
    for part in parents:
        node = node[part] if isinstance(node, dict) else node[int(part)]  # parents must exist
    if op["op"] == "remove":
        node.pop(last if isinstance(node, dict) else int(last))
    elif isinstance(node, list):
        node.insert(len(node) if last == "-" else int(last), copy.deepcopy(op.get("value")))
    else:
        node[last] = copy.deepcopy(op.get("value"))


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    for key, value in patch.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _apply_patch(ks: dict[str, Any], text: str, where: str) -> dict[str, Any]:
    try:
        docs = load_documents(text, f"{where} spec.kustomize.patches")
    except FluxpushError as exc:
        raise InputError(f"a patch is not valid YAML: {exc}", obj=where,
                         field="spec.kustomize.patches") from exc
    data = docs[0].data if docs else None
    if isinstance(data, list):
        return _json6902(ks, data, where)
    if isinstance(data, dict):
        return _merge(ks, {k: v for k, v in data.items() if k not in ("apiVersion", "kind", "metadata")})
    return ks


def sync_objects(instance: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The (source, Kustomization) the operator generates for `spec.sync`; None without a sync."""
    spec = instance.get("spec") or {}
    sync = spec.get("sync")
    if not isinstance(sync, dict) or not sync.get("path"):
        return None
    namespace = str((instance.get("metadata") or {}).get("namespace") or "flux-system")
    where = f"FluxInstance/{namespace}/{(instance.get('metadata') or {}).get('name')}"
    kind = str(sync.get("kind") or "GitRepository")
    meta = {"name": namespace, "namespace": namespace}
    interval = str(sync.get("interval") or SYNC_INTERVAL)
    source_spec: dict[str, Any] = {"interval": interval, "url": sync.get("url")}
    if kind == "GitRepository":
        source_spec["ref"] = _git_ref(str(sync.get("ref") or ""))
    source = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": kind, "metadata": dict(meta),
              "spec": source_spec}
    ks: dict[str, Any] = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": dict(meta),
        "spec": {"interval": interval, "path": str(sync["path"]),
                 "prune": True, "sourceRef": {"kind": kind, "name": namespace}}}
    for patch in (spec.get("kustomize") or {}).get("patches") or []:
        if isinstance(patch, dict) and _selects(patch.get("target"), ks) and patch.get("patch"):
            ks = _apply_patch(ks, str(patch["patch"]), where)
    return source, ks
