"""HelmRelease values, composed exactly as helm-controller does (flux-semantics §9.2).

Order: `valuesFrom` entries in list order (no `targetPath`: deep-merged as a YAML map), then,
for an entry with a `targetPath`, the inline `values` are merged first and the value is set at the
path with helm's `--set` rules; finally the inline `values` are merged over everything. Maps merge
recursively, anything else (lists included) replaces. ConfigMaps/Secrets are looked up in the
HelmRelease's namespace through `lookup` (the rendered repository first, then the live cluster).
Leaf paths that came from a Secret are remembered so previews can mask them.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from fluxpush.errors import InputError, YAMLError
from fluxpush.flux.model import HelmRelease, ObjectLookup, ValuesReference
from fluxpush.redact import MASK, register_secret, register_secret_data
from fluxpush.yamldoc import load_safe

Path = tuple[str | int, ...]
_INDEX = re.compile(r"^(?P<name>.*?)((\[\d+\])+)$")
_INT = re.compile(r"^[-+]?(0|[1-9]\d*)$")


@dataclass(frozen=True, slots=True)
class ComposedValues:
    """The final values and the leaf paths whose values came from a Secret."""

    values: dict[str, Any]
    secret_paths: frozenset[Path] = field(default_factory=frozenset)


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `override` into a copy of `base`: maps recursively, everything else replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def leaf_paths(values: Any, prefix: Path = ()) -> set[Path]:
    """Every leaf path of a values tree (lists count as leaves, as they replace whole)."""
    if isinstance(values, dict) and values:
        return set().union(*(leaf_paths(v, (*prefix, k)) for k, v in values.items()))
    return {prefix}


def _split_path(target: str) -> list[str]:
    parts, current, escaped = [], "", False
    for char in target:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            escaped = True
        elif char == ".":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def parse_target_path(target: str) -> Path:
    """`a.b[1].c\\.d` → ('a', 'b', 1, 'c.d'): dots separate keys, `\\.` escapes one, `[i]` indexes."""
    path: list[str | int] = []
    for part in _split_path(target):
        match = _INDEX.match(part)
        if match:
            if match["name"]:
                path.append(match["name"])
            path.extend(int(i) for i in re.findall(r"\[(\d+)\]", part[len(match["name"]):]))
        elif part:
            path.append(part)
        else:
            raise InputError(f"invalid targetPath {target!r}: empty key", hint="write keys as a.b.c")
    return tuple(path)


def typed_value(text: str, *, literal: bool = False) -> Any:
    """A `--set` value: quoted → string, `true`/`false` → bool, `null` → None, integers → int."""
    if literal:
        return text
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if _INT.match(text):
        return int(text)
    return text


def set_path(values: dict[str, Any], path: Path, value: Any) -> None:
    """Set `value` at `path`, creating maps and growing lists (with nulls) as `--set` does."""
    node: Any = values
    for key, nxt in itertools.pairwise(path):
        child_default: Any = [] if isinstance(nxt, int) else {}
        if isinstance(key, int):
            while len(node) <= key:
                node.append(None)
            if not isinstance(node[key], (dict, list)):
                node[key] = child_default
            node = node[key]
        else:
            if not isinstance(node.get(key), (dict, list)):
                node[key] = child_default
            node = node[key]
    last = path[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = value


def _describe(ref: ValuesReference, namespace: str) -> str:
    optional = "optional " if ref.optional else ""
    return f"could not resolve {optional}{ref.kind} chart values reference '{namespace}/{ref.name}' " \
           f"with key '{ref.values_key}'"


def _read_key(ref: ValuesReference, namespace: str, lookup: ObjectLookup) -> str | None:
    """The raw text under `valuesKey`, None when optional and absent; raises otherwise."""
    obj = lookup(ref.kind, namespace, ref.name)
    if obj is None:
        if ref.optional:
            return None
        raise InputError(f"{_describe(ref, namespace)}: not found")
    if ref.kind == "Secret":
        data = obj.get("data") or {}
        if ref.values_key in data:
            return base64.b64decode(data[ref.values_key]).decode()
        text = (obj.get("stringData") or {}).get(ref.values_key)  # a Secret as written in Git
    else:
        text = (obj.get("data") or {}).get(ref.values_key)
    if text is None:
        if ref.optional:
            return None
        raise InputError(f"{_describe(ref, namespace)}: key not found")
    return str(text)


def compose_values(hr: HelmRelease, lookup: ObjectLookup) -> ComposedValues:
    """The values helm-controller would pass to helm for `hr` (see the module docstring)."""
    namespace = hr.ref.namespace
    result: dict[str, Any] = {}
    secret_paths: set[Path] = set()
    raw_refs = (hr.raw.get("spec") or {}).get("valuesFrom") or []
    for index, ref in enumerate(hr.values_from):
        literal = bool(raw_refs[index].get("literal")) if index < len(raw_refs) else False
        text = _read_key(ref, namespace, lookup)
        if text is None:
            continue
        if ref.target_path:
            result = merge_values(result, hr.values)
            path = parse_target_path(ref.target_path)
            set_path(result, path, typed_value(text.strip(), literal=literal))
            contributed = {path}
        else:
            try:
                loaded = load_safe(text, _describe(ref, namespace)) or {}
            except YAMLError as exc:
                raise InputError(f"{_describe(ref, namespace)}: not valid YAML or too many aliases",
                                 obj=str(hr.ref)) from exc
            if not isinstance(loaded, dict):
                raise InputError(f"{_describe(ref, namespace)}: the values are not a YAML map",
                                 obj=str(hr.ref))
            result = merge_values(result, loaded)
            contributed = leaf_paths(loaded)
            if ref.kind == "Secret":
                register_secret_data(loaded)
        if ref.kind == "Secret":
            secret_paths |= contributed
            register_secret(text)
    return ComposedValues(merge_values(result, hr.values), frozenset(secret_paths))




def _flatten(values: Any, prefix: Path = ()) -> dict[Path, Any]:
    if isinstance(values, dict) and values:
        out: dict[Path, Any] = {}
        for key, value in values.items():
            out.update(_flatten(value, (*prefix, key)))
        return out
    return {prefix: values}


def _dotted(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))


def values_diff(before: dict[str, Any] | None, after: ComposedValues) -> list[str]:
    """`path: old -> new` lines between the deployed and the new values; Secret-sourced values and
    removed values are shown as `***`, so no Secret value reaches a plan."""
    old, new = _flatten(before or {}), _flatten(after.values)
    lines = []
    for path in sorted(set(old) | set(new), key=lambda p: [str(x) for x in p]):
        if path in old and path in new and old[path] == new[path]:
            continue
        secret = any(path[: len(s)] == s for s in after.secret_paths)
        left = "(absent)" if path not in old else MASK if secret or path not in new else json_text(old[path])
        right = "(absent)" if path not in new else MASK if secret else json_text(new[path])
        lines.append(f"{_dotted(path) or '(root)'}: {left} -> {right}")
    return lines


def json_text(value: Any) -> str:
    """A value as compact JSON (strings quoted)."""
    return json.dumps(value, sort_keys=True)
