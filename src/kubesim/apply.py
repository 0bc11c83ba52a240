"""Server-side apply and managedFields bookkeeping (structured-merge semantics over the schema).

`apply_object` merges an applied configuration into the live object, detects conflicts with other
managers, removes fields the applier stopped owning, and returns the new managedFields.
`record_update` does the bookkeeping for Update operations (POST, PUT, non-apply PATCH).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from kubesim.errors import ApiError
from kubesim.fieldset import (
    MISSING,
    Path,
    fields_of,
    from_fields_v1,
    key_element,
    path_string,
    remove_path,
    to_fields_v1,
    value_at,
)
from kubesim.schema import Node, Schema

KEY_DEFAULTS = {"protocol": "TCP"}  # list-map key fields the server defaults before merging (ports)


@dataclass(slots=True)
class Manager:
    """One managedFields entry, with its field set decoded."""

    manager: str
    operation: str
    api_version: str
    time: str
    subresource: str
    fields: set[Path] = field(default_factory=set)
    changed: bool = False

    def same_owner(self, manager: str, operation: str, subresource: str) -> bool:
        """Whether this entry is the one a (manager, operation, subresource) writes to."""
        return (self.manager, self.operation, self.subresource) == (manager, operation, subresource)

    def encode(self) -> dict[str, Any]:
        """The wire form of the entry."""
        entry: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fields_v1(self.fields),
        }
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


def decode_managers(obj: dict[str, Any] | None) -> list[Manager]:
    """The managedFields entries of an object."""
    entries = []
    for raw in (obj or {}).get("metadata", {}).get("managedFields") or []:
        entries.append(
            Manager(
                manager=raw.get("manager", ""),
                operation=raw.get("operation", "Update"),
                api_version=raw.get("apiVersion", ""),
                time=raw.get("time", ""),
                subresource=raw.get("subresource", ""),
                fields=from_fields_v1(raw.get("fieldsV1") or {}),
            )
        )
    return entries


def encode_managers(entries: list[Manager]) -> list[dict[str, Any]]:
    """Wire form of the non-empty entries."""
    return [e.encode() for e in entries if e.fields]


def default_list_keys(schema: Schema, value: Any, node: Node | None, path: str = "") -> None:
    """Fill list-map key fields that have defaults (ports[].protocol) in an applied configuration."""
    shape = schema.shape(node)
    if isinstance(value, dict) and shape in ("struct", "map"):
        for key, child in value.items():
            default_list_keys(schema, child, schema.child(node, key), f"{path}.{key}")
    elif isinstance(value, list) and shape == "list":
        list_type, keys = schema.list_type(node)
        item_node = schema.items(node)
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            if list_type == "map":
                for key in keys:
                    if key not in item and key in KEY_DEFAULTS:
                        item[key] = KEY_DEFAULTS[key]
                    elif key not in item:
                        raise ApiError(
                            500,
                            "",
                            f"{path}: element {index}: associative list with keys has an "
                            f'element that omits key field "{key}" (and doesn\'t have default value)',
                        )
            default_list_keys(schema, item, item_node, f"{path}[{index}]")


def merge(schema: Schema, live: Any, applied: Any, node: Node | None) -> Any:
    """Merge an applied value into a live one: maps by key, list-maps by item keys, sets by value."""
    shape = schema.shape(node)
    if (
        isinstance(live, dict)
        and isinstance(applied, dict)
        and shape in ("struct", "map", "any")
        and not schema.is_atomic(node)
    ):
        return _merge_map(schema, live, applied, node)
    if isinstance(live, list) and isinstance(applied, list) and shape == "list":
        list_type, keys = schema.list_type(node)
        if list_type == "map" and keys:
            return _merge_list_map(schema, live, applied, schema.items(node), keys)
        if list_type == "set":
            return copy.deepcopy(live) + [copy.deepcopy(v) for v in applied if v not in live]
    return copy.deepcopy(applied)


def _merge_map(
    schema: Schema, live: dict[str, Any], applied: dict[str, Any], node: Node | None
) -> dict[str, Any]:
    result = copy.deepcopy(live)
    for key, value in applied.items():
        child = schema.child(node, key)
        result[key] = merge(schema, live[key], value, child) if key in live else copy.deepcopy(value)
    return result


def _merge_list_map(
    schema: Schema, live: list[Any], applied: list[Any], item_node: Node | None, keys: tuple[str, ...]
) -> list[Any]:
    """An associative list: items matched by their key fields are merged, new ones appended."""
    result = copy.deepcopy(live)
    index = {key_element(i, keys): n for n, i in enumerate(result) if isinstance(i, dict)}
    for item in applied:
        if not isinstance(item, dict):
            continue
        slot = index.get(key_element(item, keys))
        if slot is None:
            result.append(copy.deepcopy(item))
        else:
            result[slot] = merge(schema, result[slot], item, item_node)
    return result


def _is_container(schema: Schema, path: Path, value: Any) -> bool:
    return bool(path) and path[-1].startswith("k:")


def _differs(schema: Schema, path: Path, applied: Any, live: Any) -> bool:
    a, b = value_at(applied, path), value_at(live, path)
    if _is_container(schema, path, a):
        return b is MISSING
    return bool(a != b)


def conflict_error(conflicts: list[tuple[Manager, Path]], kind: str, group: str, name: str) -> ApiError:
    """409 with `FieldManagerConflict` causes, worded like the real server."""
    causes = []
    lines = []
    for entry, path in conflicts:
        who = f'conflict with "{entry.manager}"'
        if entry.operation == "Update":
            who += f" using {entry.api_version}"
        else:
            who += f" using {entry.api_version}" if entry.api_version else ""
        causes.append({"reason": "FieldManagerConflict", "message": who, "field": path_string(path)})
        lines.append(f"{who}: {path_string(path)}")
    count = len(conflicts)
    noun = "conflict" if count == 1 else "conflicts"
    if count == 1:
        message = f"Apply failed with 1 conflict: {lines[0]}"
    else:
        message = f"Apply failed with {count} {noun}: " + "\n".join(lines)
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = causes
    return ApiError(409, "Conflict", message, details)


@dataclass(slots=True)
class ApplyRequest:
    """What an apply needs besides the objects."""

    manager: str
    force: bool
    api_version: str
    now: str
    subresource: str = ""
    kind: str = ""
    group: str = ""
    name: str = ""


def apply_object(
    schema: Schema, root: Node, live: dict[str, Any] | None, applied: dict[str, Any], request: ApplyRequest
) -> dict[str, Any]:
    """Return the object after applying `applied` as `request.manager`; raises 409 on conflicts.

    The result carries the new `metadata.managedFields`. Defaulting and validation happen later.
    """
    section = "status" if request.subresource == "status" else "main"
    new_set = fields_of(schema, applied, root, section)
    entries = decode_managers(live)
    mine = next((e for e in entries if e.same_owner(request.manager, "Apply", request.subresource)), None)
    if live is None:
        merged = copy.deepcopy(applied)
    else:
        _take_over_conflicts(schema, entries, mine, new_set, applied, live, request)
        merged = merge(schema, live, applied, root)
        _remove_released(merged, entries, mine, new_set, request.subresource)
    if mine is None:
        mine = Manager(request.manager, "Apply", request.api_version, request.now, request.subresource)
        entries.append(mine)
    if mine.fields != new_set or mine.api_version != request.api_version:
        mine.fields = new_set
        mine.api_version = request.api_version
        mine.time = request.now
    for entry in entries:
        if entry.changed:
            entry.time = request.now
    merged.setdefault("metadata", {})["managedFields"] = encode_managers(entries)
    return merged


def _take_over_conflicts(
    schema: Schema, entries: list[Manager], mine: Manager | None, new_set: set[Path],
    applied: dict[str, Any], live: dict[str, Any], request: ApplyRequest,
) -> None:
    """Fields other managers own with a different value: a 409, or (forced) taken from them."""
    conflicts: list[tuple[Manager, Path]] = []
    for entry in entries:
        if entry is mine or entry.subresource != request.subresource:
            continue
        for path in sorted(new_set & entry.fields):
            if _differs(schema, path, applied, live):
                conflicts.append((entry, path))
    if conflicts and not request.force:
        raise conflict_error(conflicts, request.kind, request.group, request.name)
    for entry, path in conflicts:
        entry.fields.discard(path)
        entry.changed = True


def _remove_released(
    merged: dict[str, Any], entries: list[Manager], mine: Manager | None, new_set: set[Path], subresource: str
) -> None:
    """Remove the fields this manager applied before, no longer applies, and nobody else owns."""
    old_set = mine.fields if mine else set()
    others: set[Path] = set()
    for entry in entries:
        if entry is not mine and entry.subresource == subresource:
            others |= entry.fields
    kept = others | new_set
    gone = {
        path for path in old_set - kept
        if not any(len(o) > len(path) and o[: len(path)] == path for o in kept)
    }
    # Remove whole subtrees: a list item goes as one (its defaulted fields with it), and its key
    # fields must not be removed first, or the item could no longer be found by its key.
    for path in sorted(gone, key=len):
        if not any(path[:n] in gone for n in range(1, len(path))):
            remove_path(merged, path)


def record_update(
    schema: Schema,
    root: Node,
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    api_version: str,
    now: str,
    subresource: str = "",
) -> list[dict[str, Any]]:
    """managedFields after an Update operation: changed fields move to `manager`'s Update entry."""
    section = "status" if subresource == "status" else "main"
    new_fields = fields_of(schema, new, root, section)
    old_fields = fields_of(schema, old, root, section) if old is not None else set()
    changed = {p for p in new_fields if p not in old_fields or _differs(schema, p, new, old)}
    removed = old_fields - new_fields
    entries = decode_managers(old)
    for entry in entries:
        before = len(entry.fields)
        if entry.subresource == subresource or section == "main":
            entry.fields -= changed | removed
        if len(entry.fields) != before:
            entry.changed = True
    if changed:
        mine = next((e for e in entries if e.same_owner(manager, "Update", subresource)), None)
        if mine is None:
            mine = Manager(manager, "Update", api_version, now, subresource)
            entries.append(mine)
        mine.fields |= changed
        mine.api_version = api_version
        mine.time = now
    return encode_managers(entries)


def undeclared_fields(
    schema: Schema, value: Any, node: Node | None, path: str = "", smd_style: bool = False
) -> list[str]:
    """Paths of fields the schema does not declare (for strict decoding and apply's typed check)."""
    found: list[str] = []
    shape = schema.shape(node)
    if isinstance(value, dict) and shape in ("struct", "map"):
        for key, child in value.items():
            child_path = f"{path}.{key}" if (path or smd_style) else key
            if not schema.is_declared(node, key):
                found.append(child_path)
                continue
            found += undeclared_fields(schema, child, schema.child(node, key), child_path, smd_style)
    elif isinstance(value, list) and shape == "list":
        item_node = schema.items(node)
        list_type, keys = schema.list_type(node)
        for index, item in enumerate(value):
            if smd_style and list_type == "map" and keys and isinstance(item, dict):
                label = ",".join(f"{k}={_quote(item.get(k))}" for k in keys if k in item)
                child_path = f"{path}[{label}]"
            else:
                child_path = f"{path}[{index}]"
            found += undeclared_fields(schema, item, item_node, child_path, smd_style)
    return found


def _quote(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
