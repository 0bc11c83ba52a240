"""Field sets (the paths a manager owns) and their FieldsV1 encoding, driven by the schema.

A path is a tuple of path elements in FieldsV1 spelling: `f:<field>`, `k:<json of key fields>`,
`v:<json value>`, `i:<index>`. A field set is a Python `set` of such paths, each one a member.
"""

from __future__ import annotations

import json
from typing import Any

from kubesim.schema import Node, Schema

Path = tuple[str, ...]

# System metadata no manager ever owns.
UNOWNED_METADATA = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                    "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"}


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def key_element(item: dict[str, Any], keys: tuple[str, ...]) -> str:
    """`k:{"name":"web"}` for a list-map item (key fields only, sorted)."""
    return "k:" + _compact({k: item.get(k) for k in keys if k in item})


def fields_of(schema: Schema, obj: dict[str, Any], root: Node, section: str = "main") -> set[Path]:
    """The field set of an object: every leaf and list item it sets, per the schema.

    `section` is `main` (status excluded), `status` (only status) or `all`.
    """
    out: set[Path] = set()
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if section == "main" and key == "status":
            continue
        if section == "status" and key not in ("status", "metadata"):
            continue
        child = schema.child(root, key)
        if key == "metadata" and isinstance(value, dict):
            for mkey, mvalue in value.items():
                if mkey not in UNOWNED_METADATA:
                    _walk(schema, mvalue, schema.child(child, mkey), ("f:metadata", f"f:{mkey}"), out)
            continue
        _walk(schema, value, child, (f"f:{key}",), out)
    return out


def _walk(schema: Schema, value: Any, node: Node | None, path: Path, out: set[Path]) -> None:
    shape = schema.shape(node)
    if isinstance(value, dict) and shape in ("struct", "map", "any") and not schema.is_atomic(node):
        if not value:
            out.add(path)
        for key, child in value.items():
            _walk(schema, child, schema.child(node, key), (*path, f"f:{key}"), out)
        return
    if isinstance(value, list) and shape == "list":
        list_type, keys = schema.list_type(node)
        item_node = schema.items(node)
        if list_type == "map" and keys:
            for item in value:
                if not isinstance(item, dict):
                    continue
                item_path = (*path, key_element(item, keys))
                out.add(item_path)
                for key, child in item.items():
                    _walk(schema, child, schema.child(item_node, key), (*item_path, f"f:{key}"), out)
            return
        if list_type == "set":
            for item in value:
                out.add((*path, "v:" + _compact(item)))
            return
    out.add(path)


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    """Encode a field set as the FieldsV1 nested map."""
    tree: dict[str, Any] = {}
    members: set[Path] = set(paths)
    for path in sorted(paths):
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    def mark(node: dict[str, Any], prefix: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for element in sorted(node):
            child_path = (*prefix, element)
            child = mark(node[element], child_path)
            if child and child_path in members:
                child = {".": {}, **child}
            result[element] = child
        return result
    return mark(tree, ())


def from_fields_v1(tree: dict[str, Any], prefix: Path = ()) -> set[Path]:
    """Decode a FieldsV1 nested map into a field set."""
    out: set[Path] = set()
    for element, child in (tree or {}).items():
        if element == ".":
            out.add(prefix)
            continue
        path = (*prefix, element)
        if not child:
            out.add(path)
        else:
            out |= from_fields_v1(child, path)
    return out


_MISSING = object()


def value_at(obj: Any, path: Path) -> Any:
    """The value at a path, or `MISSING`."""
    current = obj
    for element in path:
        kind, _, rest = element.partition(":")
        if kind == "f":
            if not isinstance(current, dict) or rest not in current:
                return _MISSING
            current = current[rest]
        elif kind == "k":
            want = json.loads(rest)
            if not isinstance(current, list):
                return _MISSING
            current = next((i for i in current if isinstance(i, dict) and _matches(i, want)), _MISSING)
        elif kind == "v":
            want = json.loads(rest)
            if not isinstance(current, list) or want not in current:
                return _MISSING
            current = want
        elif kind == "i":
            index = int(rest)
            if not isinstance(current, list) or index >= len(current):
                return _MISSING
            current = current[index]
        if current is _MISSING:
            return _MISSING
    return current


MISSING = _MISSING


def _matches(item: dict[str, Any], want: dict[str, Any]) -> bool:
    return all(item.get(k) == v for k, v in want.items())


def remove_path(obj: Any, path: Path) -> None:
    """Delete the value at a path (a field, list item or set value); prune maps it leaves empty."""
    if not path:
        return
    parent = value_at(obj, path[:-1]) if len(path) > 1 else obj
    kind, _, rest = path[-1].partition(":")
    if kind == "f" and isinstance(parent, dict):
        parent.pop(rest, None)
    elif kind in ("k", "v") and isinstance(parent, list):
        want = json.loads(rest)
        for index, item in enumerate(parent):
            hit = _matches(item, want) if kind == "k" and isinstance(item, dict) else item == want
            if hit:
                del parent[index]
                break
    if len(path) > 1 and parent in ({}, []) and path[-2].startswith("f:"):
        remove_path(obj, path[:-1])


def path_string(path: Path) -> str:
    """Render a path the way server-side apply messages do: `.spec.containers[name="web"].image`."""
    out = []
    for element in path:
        kind, _, rest = element.partition(":")
        if kind == "f":
            out.append("." + rest)
        elif kind == "k":
            pairs = json.loads(rest)
            out.append("[" + ",".join(f"{k}={_compact(v)}" for k, v in pairs.items()) + "]")
        elif kind == "v":
            out.append(f"[={rest}]")
        else:
            out.append(f"[{rest}]")
    return "".join(out)
