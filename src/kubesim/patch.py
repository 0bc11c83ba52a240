"""Non-apply patches: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge patch."""

from __future__ import annotations

import copy
from typing import Any

from kubesim.errors import ApiError
from kubesim.schema import Node, Schema


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, `null` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", "the server rejected our request due to an error in our request")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _resolve(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 operations: add, remove, replace, move, copy, test."""
    if not isinstance(operations, list):
        raise ApiError(
            400, "BadRequest", "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
        )
    doc = copy.deepcopy(target)
    for op in operations:
        name = op.get("op")
        parts = _pointer(op.get("path", ""))
        try:
            if name == "test":
                if _resolve(doc, parts) != op.get("value"):
                    raise ApiError(
                        422, "Invalid", "the server rejected our request due to an error in our request"
                    )
                continue
            if name in ("move", "copy"):
                source = _pointer(op.get("from", ""))
                value = copy.deepcopy(_resolve(doc, source))
                if name == "move":
                    doc = _remove(doc, source)
                doc = _add(doc, parts, value)
            elif name == "add":
                doc = _add(doc, parts, copy.deepcopy(op.get("value")))
            elif name == "remove":
                doc = _remove(doc, parts)
            elif name == "replace":
                _resolve(doc, parts[:-1])  # parent must exist
                doc = _remove(doc, parts)
                doc = _add(doc, parts, copy.deepcopy(op.get("value")))
            else:
                raise ApiError(400, "BadRequest", f"Unexpected kind: {name}")
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ApiError(
                422, "Invalid", "the server rejected our request due to an error in our request"
            ) from exc
    return doc


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _resolve(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            index = int(last)
            if index > len(parent):
                raise IndexError(index)
            parent.insert(index, value)
    else:
        parent[last] = value
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    parent = _resolve(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        del parent[int(last)]
    else:
        del parent[last]
    return doc


def strategic_merge_patch(schema: Schema, target: Any, patch: Any, node: Node | None) -> Any:
    """Strategic merge: like merge patch, but lists with a patch merge key merge item by item.

    Supports the directives kubectl sends: `$patch: replace|delete`, `$retainKeys`,
    `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>` (order is accepted, not enforced).
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        _patch_field(schema, result, key, value, schema.child(node, key))
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _patch_field(schema: Schema, result: dict[str, Any], key: str, value: Any, child: Node | None) -> None:
    """Patch one field of `result` in place: null removes it, lists may merge, maps recurse."""
    if value is None:
        result.pop(key, None)
        return
    strategy, merge_key = schema.patch_strategy(child)
    if isinstance(value, list) and "merge" in strategy:
        result[key] = _merge_list(schema, result.get(key), value, child, merge_key)
    elif isinstance(value, dict):
        merged = strategic_merge_patch(schema, result.get(key), value, child)
        if merged is None:
            result.pop(key, None)
        else:
            result[key] = merged
    else:
        result[key] = copy.deepcopy(value)


def _merge_list(schema: Schema, live: Any, patch: list[Any], node: Node | None, merge_key: str | None) -> Any:
    current = copy.deepcopy(live) if isinstance(live, list) else []
    if not merge_key:
        return current + [v for v in patch if v not in current]
    item_node = schema.items(node)
    for item in patch:
        if not isinstance(item, dict):
            continue
        if item.get("$patch") == "replace":
            return [i for i in patch if not (isinstance(i, dict) and i.get("$patch"))]
        slot = next(
            (
                n
                for n, i in enumerate(current)
                if isinstance(i, dict) and i.get(merge_key) == item.get(merge_key)
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if slot is not None:
                del current[slot]
            continue
        if slot is None:
            current.append({k: v for k, v in item.items() if not k.startswith("$")})
        else:
            current[slot] = strategic_merge_patch(schema, current[slot], item, item_node)
    return current
