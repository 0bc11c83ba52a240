"""Per-object diffs: a unified YAML diff and a list of changed field paths.

Both sides are normalized (`normalize_object`) and Secret-masked (`mask_secrets`) before anything
is rendered, so a diff never shows server-set metadata, `status` or a Secret value. The right-hand
side is the server's dry-run result when there is one (fields of other managers and defaults then
cancel out), else the desired object.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

from fluxpush.planning.mask import mask_secrets
from fluxpush.planning.normalize import normalize_object, object_id
from fluxpush.yamldoc import dump_block

ABSENT = "(absent)"
# Values longer than this are cut in field-path lines; the unified diff shows them whole.
MAX_VALUE_CHARS = 60
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_./:@%+=-]+$")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One changed leaf (or subtree added/removed whole): `spec.replicas: 1 -> 3`."""

    path: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.path}: {self.before} -> {self.after}"


@dataclass(frozen=True, slots=True)
class ObjectDiff:
    """The unified diff text (empty when equal) and the changed field paths."""

    text: str
    changes: tuple[FieldChange, ...]

    @property
    def has_changes(self) -> bool:
        """Whether the two sides differ at all."""
        return bool(self.changes)


def to_yaml(obj: dict[str, Any] | None) -> str:
    """Block YAML with sorted keys; `None` (object absent) is the empty document. A multi-line string
    prints as a `|` block, so a diff of a ConfigMap value or a script shows the lines that changed."""
    if obj is None:
        return ""
    return dump_block(obj, sort_keys=True, width=4096)


def _show(value: Any) -> str:
    if value is _MISSING:
        return ABSENT
    if isinstance(value, str) and _PLAIN_VALUE.match(value):
        text = value
    else:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _key_segment(path: str, key: str) -> str:
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _names(items: list[Any]) -> list[str] | None:
    """Item names when every item is a mapping with a distinct string `name` (containers, env, …)."""
    names = [item.get("name") if isinstance(item, dict) else None for item in items]
    if all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
        return names  # type: ignore[return-value]
    return None


def _walk(path: str, before: Any, after: Any, out: list[FieldChange]) -> None:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before.keys() | after.keys(), key=str):
            _walk(_key_segment(path, str(key)), before.get(key, _MISSING), after.get(key, _MISSING), out)
        return
    if isinstance(before, list) and isinstance(after, list):
        before_names, after_names = _names(before), _names(after)
        if before_names is not None and after_names is not None:
            left = dict(zip(before_names, before, strict=True))
            right = dict(zip(after_names, after, strict=True))
            for name in dict.fromkeys([*before_names, *after_names]):
                _walk(f"{path}[{name}]", left.get(name, _MISSING), right.get(name, _MISSING), out)
            common_before = [n for n in before_names if n in right]
            common_after = [n for n in after_names if n in left]
            if common_before != common_after:  # order counts, as in Flux's drift check
                out.append(FieldChange(f"{path} (order)", ",".join(common_before), ",".join(common_after)))
            return
        for index in range(max(len(before), len(after))):
            _walk(f"{path}[{index}]", before[index] if index < len(before) else _MISSING,
                  after[index] if index < len(after) else _MISSING, out)
        return
    out.append(FieldChange(path or ".", _show(before), _show(after)))


def field_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> tuple[FieldChange, ...]:
    """Changed field paths between two (already normalized and masked) objects."""
    out: list[FieldChange] = []
    _walk("", _MISSING if before is None else before, _MISSING if after is None else after, out)
    return tuple(out)


def diff_objects(
    live: dict[str, Any] | None, desired: dict[str, Any] | None, *, desired_label: str = "desired"
) -> ObjectDiff:
    """Normalize and mask both sides, then diff them; either side may be None (create, delete)."""
    source = desired if desired is not None else live
    if source is None:
        raise ValueError("diff_objects needs at least one object")
    name = str(object_id(source))
    left = normalize_object(live) if live is not None else None
    right = normalize_object(desired) if desired is not None else None
    left, right = mask_secrets(left, right)
    changes = field_changes(left, right)
    if not changes:
        return ObjectDiff("", ())
    lines = difflib.unified_diff(to_yaml(left).splitlines(keepends=True),
                                 to_yaml(right).splitlines(keepends=True),
                                 fromfile=f"live {name}", tofile=f"{desired_label} {name}")
    return ObjectDiff("".join(lines), changes)
