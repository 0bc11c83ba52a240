"""Schemas: the built-in OpenAPI definitions shipped by `kubernetes-validate`, and CRD schemas.

`Schema` resolves `$ref`s and answers the questions server-side apply, pruning and validation ask
of a node: is it a struct, a map, a list (and which list type and keys), a scalar, or free-form?
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import kubernetes_validate

KUBE_VERSION = "1.35.0"  # the schema set served; matches the pinned kubectl minor (v1.35.x)
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

Node = dict[str, Any]


@functools.lru_cache(maxsize=4)
def load_definitions(version: str = KUBE_VERSION) -> dict[str, Node]:
    """The `$defs` of kubernetes-validate's strict schema set for one Kubernetes version."""
    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    path = base / f"v{version}-local-strict" / "_definitions.json"
    with path.open(encoding="utf-8") as handle:
        definitions: dict[str, dict[str, Any]] = json.load(handle)["$defs"]
    return definitions


def _types(node: Node) -> set[str]:
    value = node.get("type")
    if value is None:
        return set()
    return {value} if isinstance(value, str) else set(value) - {"null"}


class Schema:
    """Navigation over one schema graph (built-in definitions, or a CRD's openAPIV3Schema)."""

    def __init__(self, definitions: dict[str, Node]) -> None:
        self.definitions = definitions

    def resolve(self, node: Node | None) -> Node | None:
        """Follow `$ref`s (and single-entry `allOf`) to the node that has the real content."""
        seen = 0
        while node is not None and seen < 32:
            seen += 1
            if "$ref" in node:
                node = self.definitions.get(node["$ref"].rsplit("/", 1)[-1])
            elif "allOf" in node and len(node["allOf"]) == 1:
                node = node["allOf"][0]
            else:
                return node
        return node

    def shape(self, node: Node | None) -> str:
        """One of `struct`, `map`, `list`, `scalar` or `any` (no schema, or unknown fields kept)."""
        node = self.resolve(node)
        if node is None:
            return "any"
        if node.get("x-kubernetes-int-or-string") or "oneOf" in node or "anyOf" in node:
            return "scalar"
        types = _types(node)
        if "array" in types or "items" in node:
            return "list"
        if "properties" in node:
            return "struct"
        if isinstance(node.get("additionalProperties"), dict):
            return "map"
        if node.get("x-kubernetes-preserve-unknown-fields") or "object" in types:
            return "any"
        if types:
            return "scalar"
        return "any"

    def child(self, node: Node | None, key: str) -> Node | None:
        """The schema of field `key` of a struct or map node, or None when undeclared."""
        node = self.resolve(node)
        if node is None:
            return None
        props: dict[str, Node] | None = node.get("properties")
        if props and key in props:
            return props[key]
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return extra
        return None

    def is_declared(self, node: Node | None, key: str) -> bool:
        """Whether `key` is allowed in this object node (declared, a map, or unknown fields kept)."""
        node = self.resolve(node)
        if node is None:
            return True
        if node.get("x-kubernetes-preserve-unknown-fields"):
            return True
        if key in node.get("properties", {}):
            return True
        extra = node.get("additionalProperties")
        return isinstance(extra, dict) or extra is True or (extra is None and "properties" not in node)

    def items(self, node: Node | None) -> Node | None:
        """The item schema of a list node."""
        node = self.resolve(node)
        if node is None:
            return None
        items = node.get("items")
        return items if isinstance(items, dict) else None

    def list_type(self, node: Node | None) -> tuple[str, tuple[str, ...]]:
        """`(type, keys)`: `map` with its keys, `set`, or `atomic` (the default without markers)."""
        node = self.resolve(node) or {}
        kind = node.get("x-kubernetes-list-type")
        if kind == "map":
            return "map", tuple(node.get("x-kubernetes-list-map-keys", ()))
        if kind in ("set", "atomic"):
            return kind, ()
        merge_key = node.get("x-kubernetes-patch-merge-key")
        if merge_key and "merge" in node.get("x-kubernetes-patch-strategy", ""):
            return "map", (merge_key,)
        return "atomic", ()

    def patch_strategy(self, node: Node | None) -> tuple[str, str | None]:
        """Strategic-merge metadata of a field: `(strategy, mergeKey)`."""
        node = self.resolve(node) or {}
        return node.get("x-kubernetes-patch-strategy", ""), node.get("x-kubernetes-patch-merge-key")

    def is_atomic(self, node: Node | None) -> bool:
        """Whether a struct/map node is replaced whole (`x-kubernetes-map-type: atomic`)."""
        node = self.resolve(node) or {}
        return node.get("x-kubernetes-map-type") == "atomic"

    def default(self, node: Node | None) -> Any:
        """The schema default of a node, or None."""
        node = self.resolve(node) or {}
        return node.get("default")

    def required(self, node: Node | None) -> list[str]:
        """Required field names of a struct node."""
        node = self.resolve(node) or {}
        return list(node.get("required", []))


def crd_root(openapi_schema: Node | None) -> Node:
    """A CR's root node: the CRD's openAPIV3Schema with the real ObjectMeta under `metadata`."""
    root = dict(openapi_schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    props = dict(root.get("properties", {}))
    props["metadata"] = {"$ref": f"#/$defs/{OBJECT_META}"}
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    root["properties"] = props
    return root
