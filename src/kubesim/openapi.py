"""OpenAPI v3 documents (root and per group-version) built from the served types' schemas."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from kubesim.registry import Registry, ResourceType
from kubesim.schema import Node

QUERY_PARAMS = {
    "fieldValidation": "fieldValidation instructs the server on how to handle objects in the request "
    "containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.",
    "dryRun": "When present, indicates that modifications should not be persisted.",
    "fieldManager": "fieldManager is a name associated with the actor or entity "
    "that is making these changes.",
}


def _convert(node: Any) -> Any:
    """JSON-Schema definitions → OpenAPI 3.0 schema objects (single types, component refs)."""
    if isinstance(node, list):
        return [_convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    if "oneOf" in node and len(node) == 1:
        types = {
            t
            for alt in node["oneOf"]
            for t in ([alt.get("type")] if isinstance(alt.get("type"), str) else alt.get("type") or [])
        } - {"null"}
        if types == {"string", "integer"}:
            return {"type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": True}
        return {"type": "string"}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type" and isinstance(value, list):
            kinds = [v for v in value if v != "null"]
            if kinds:
                out["type"] = kinds[0]
        elif key == "additionalProperties" and value is False:
            continue
        elif key == "$ref" and isinstance(value, str):  # JSONSchemaProps also has a *property* "$ref"
            out["$ref"] = value.replace("#/$defs/", "#/components/schemas/")
        else:
            out[key] = _convert(value)
    if isinstance(out.get("$ref"), str) and len(out) > 1:
        ref = out.pop("$ref")
        out["allOf"] = [{"$ref": ref}]
    return out


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _schema_name(rtype: ResourceType) -> str:
    ref: str | None = rtype.root.get("$ref")
    if ref and not rtype.is_crd:
        return ref.rsplit("/", 1)[-1]
    reversed_group = ".".join(reversed(rtype.group.split(".")))
    return f"{reversed_group}.{rtype.version}.{rtype.kind}"


def _operation(rtype: ResourceType, verb: str, params: list[str]) -> dict[str, Any]:
    parameters = [
        {
            "name": p,
            "in": "query",
            "description": QUERY_PARAMS[p],
            "schema": {"type": "string"},
            "uniqueItems": True,
        }
        for p in params
    ]
    return {
        "tags": [rtype.group or "core"],
        "operationId": f"{verb}{rtype.kind}",
        "parameters": parameters,
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{_schema_name(rtype)}"}}
                },
            }
        },
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": {
            "group": rtype.group,
            "version": rtype.version,
            "kind": rtype.kind,
        },
    }


def _paths(rtype: ResourceType) -> dict[str, Any]:
    prefix = f"/apis/{rtype.group}/{rtype.version}" if rtype.group else f"/api/{rtype.version}"
    collection = (
        f"{prefix}/namespaces/{{namespace}}/{rtype.plural}"
        if rtype.namespaced
        else f"{prefix}/{rtype.plural}"
    )
    writes = ["dryRun", "fieldManager", "fieldValidation"]
    item = {
        "get": _operation(rtype, "get", []),
        "put": _operation(rtype, "put", writes),
        "patch": {
            **_operation(rtype, "patch", writes),
            "requestBody": {
                "content": {
                    t: {"schema": {"type": "object"}}
                    for t in (
                        "application/apply-patch+yaml",
                        "application/json-patch+json",
                        "application/merge-patch+json",
                        "application/strategic-merge-patch+json",
                    )
                }
            },
        },
        "delete": _operation(rtype, "delete", ["dryRun"]),
        "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
    }
    paths = {
        collection: {"get": _operation(rtype, "list", []), "post": _operation(rtype, "post", writes)},
        f"{collection}/{{name}}": item,
    }
    if rtype.has_status:
        paths[f"{collection}/{{name}}/status"] = {
            k: v for k, v in item.items() if k in ("get", "put", "patch")
        }
    return paths


class OpenAPI:
    """Builds and caches OpenAPI v3 documents for a registry's group-versions."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._cache: dict[str, tuple[str, bytes]] = {}

    def _key(self, types: list[ResourceType]) -> str:
        return json.dumps(
            [(t.kind, t.plural, t.namespaced, t.root if t.is_crd else t.root.get("$ref")) for t in types],
            sort_keys=True,
        )

    def group_versions(self) -> dict[str, list[ResourceType]]:
        """Served types per OpenAPI path key (`api/v1`, `apis/apps/v1`)."""
        result: dict[str, list[ResourceType]] = {}
        for rtype in self.registry.all():
            path = f"apis/{rtype.group}/{rtype.version}" if rtype.group else f"api/{rtype.version}"
            result.setdefault(path, []).append(rtype)
        return result

    def document(self, path: str) -> tuple[str, bytes] | None:
        """`(hash, JSON bytes)` of one group-version document, or None when not served."""
        types = self.group_versions().get(path)
        if not types:
            return None
        key = self._key(types)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == key:
            return self._hash(cached[1]), cached[1]
        body = json.dumps(self._build(types), separators=(",", ":")).encode()
        self._cache[path] = (key, body)
        return self._hash(body), body

    def _hash(self, body: bytes) -> str:
        return hashlib.sha512(body).hexdigest()[:128].upper()

    def root(self) -> dict[str, Any]:
        """The /openapi/v3 discovery root."""
        paths = {}
        for path in self.group_versions():
            doc = self.document(path)
            if doc is not None:
                paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={doc[0]}"}
        return {"paths": paths}

    def _build(self, types: list[ResourceType]) -> dict[str, Any]:
        definitions = self.registry.definitions
        schemas: dict[str, Node] = {}
        pending: list[str] = []
        paths: dict[str, Any] = {}
        for rtype in types:
            paths.update(_paths(rtype))
            name = _schema_name(rtype)
            if rtype.is_crd:
                root = copy.deepcopy(rtype.root)
                root["x-kubernetes-group-version-kind"] = [
                    {"group": rtype.group, "version": rtype.version, "kind": rtype.kind}
                ]
                schemas[name] = _convert(root)
                found: set[str] = set()
                _refs(root, found)
                pending += sorted(found)
            else:
                pending.append(name)
        while pending:
            name = pending.pop()
            if name in schemas or name not in definitions:
                continue
            schemas[name] = _convert(definitions[name])
            found = set()
            _refs(definitions[name], found)
            pending += sorted(found - set(schemas))
        return {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "v1.35.0-kubesim"},
            "paths": paths,
            "components": {"schemas": schemas},
        }
