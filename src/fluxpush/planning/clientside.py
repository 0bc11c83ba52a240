"""The client way: decide from the live object alone whether a server-side apply would change it.

`client_side_changed(desired, live, field_manager)` answers without a dry-run when it can:

* **changed** when a field desired sets has another value live (or is not set live), or when a
  field our manager owns (its `Apply` entry in `managedFields`, FieldsV1) is no longer in desired,
  so the apply would remove it;
* **unchanged** when every field desired sets is equal live and nothing owned was dropped;
* **undecided** when the answer depends on what the server would do with the applied config.
  Exactly these cases:
  1. live was read at another `apiVersion` than desired (conversion may rename or default fields);
  2. desired sets an empty value (`{}`, `[]`, `""`) where live has nothing (the server may drop it);
  3. desired sets `null` where live has a value (null means "not mine", the value may stay);
  4. a list of scalars where live holds every desired item plus others or in another order (a set
     with other owners keeps them; an atomic list would be replaced);
  5. a list of mappings with no known merge key whose live items carry fields desired does not set
     (server defaults, or someone else's fields that an atomic apply would drop), or a built-in list
     of that kind where live has more items;
  6. an item of a keyed list that lacks a key field, or a key shared by several items, or live
     holding desired's items in another order;
  7. a positional (`i:`) entry in our manager's field set.
  The caller then falls back to a server-side dry-run. A certain change anywhere wins over these.

Quantities (`500m` vs `0.5`) are compared by value under resource-like keys of built-in kinds, as
the server canonicalizes them. Lists of built-in kinds merge on their known keys (containers by
`name`, container ports by `containerPort`+`protocol`, …); lists of other groups are atomic, as for
CRDs without list-type markers (cluster §4.3).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from fluxpush.planning.normalize import api_group, normalize_object

# API groups served by kube-apiserver itself (their list merge keys are fixed by the built-in types).
BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io",
    "apiextensions.k8s.io", "admissionregistration.k8s.io", "certificates.k8s.io", "events.k8s.io",
    "flowcontrol.apiserver.k8s.io", "resource.k8s.io",
})
# x-kubernetes-list-map-keys of the built-in lists (cluster §4.3); `ports` is decided by its items.
LIST_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",), "initContainers": ("name",), "ephemeralContainers": ("name",),
    "env": ("name",), "volumes": ("name",), "imagePullSecrets": ("name",), "resourceClaims": ("name",),
    "volumeMounts": ("mountPath",), "volumeDevices": ("devicePath",), "hostAliases": ("ip",),
    "ownerReferences": ("uid",), "conditions": ("type",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
}
# Parent keys under which built-in kinds hold resource.Quantity values.
QUANTITY_PARENTS = frozenset({"limits", "requests", "hard", "max", "min", "default", "defaultRequest",
                              "maxLimitRequestRatio", "capacity", "overhead"})
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))"
                       r"(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$")
_SUFFIX = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": Decimal(10) ** 3,
           "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12, "P": Decimal(10) ** 15,
           "E": Decimal(10) ** 18, "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
           "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60}
_MISSING: Any = object()


class Comparison(StrEnum):
    """Whether applying desired would change the live object."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"
    UNDECIDED = "undecided"


@dataclass(frozen=True, slots=True)
class ClientSideResult:
    """The verdict and the field path (with why) that decided it; empty reason when unchanged."""

    verdict: Comparison
    reason: str = ""


class _Decided(Exception):
    """Stops the walk at the first certain change."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_quantity(text: str) -> Decimal | None:
    """The value of a Kubernetes quantity string (`500m`, `1Gi`, `1e3`), None if it is not one."""
    match = _QUANTITY.match(text.strip())
    if match is None:
        return None
    number, exponent, suffix = match.groups()
    try:
        value = Decimal(number)
    except InvalidOperation:
        return None
    if exponent is not None:
        return value.scaleb(int(exponent))
    return value * _SUFFIX[suffix] if suffix else value


def owned_fields(live: dict[str, Any], field_manager: str) -> dict[str, Any] | None:
    """FieldsV1 of `field_manager`'s Apply entry on the main resource (entries merged), None if none."""
    merged: dict[str, Any] | None = None
    for entry in (live.get("metadata") or {}).get("managedFields") or ():
        if entry.get("manager") == field_manager and entry.get("operation") == "Apply" \
                and not entry.get("subresource"):
            merged = _merge_fields(merged or {}, entry.get("fieldsV1") or {})
    return merged


def _merge_fields(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    out = dict(left)
    for key, value in right.items():
        out[key] = _merge_fields(out.get(key) or {}, value or {}) if key in out else value
    return out


def list_keys(key: str, items: list[Any], *, builtin: bool) -> tuple[str, ...] | None:
    """Merge keys of the list under `key` (None: atomic, or unknown); only built-in kinds have them."""
    if not builtin:
        return None
    if key == "ports":
        by_container = any(isinstance(i, dict) and "containerPort" in i for i in items)
        return ("containerPort" if by_container else "port", "protocol")
    return LIST_KEYS.get(key)


def _overlay(have: Any, want: Any, key: str, builtin: bool) -> Any:
    if want is None:
        return have
    if isinstance(have, dict) and isinstance(want, dict):
        out = dict(have)
        for sub, value in want.items():
            out[sub] = _overlay(have[sub], value, sub, builtin) if sub in have else value
        return out
    keys = list_keys(key, want, builtin=builtin) if isinstance(want, list) else None
    if keys is None or not isinstance(have, list) or not all(isinstance(i, dict) for i in [*want, *have]):
        return want
    index = {tuple(item.get(k) for k in keys): item for item in have}
    merged = []
    for item in want:
        ident = tuple(item.get(k) for k in keys)
        merged.append(_overlay(index.pop(ident), item, "", builtin) if ident in index else item)
    return merged + list(index.values())  # items desired does not name stay (other owners)


def project_apply(desired: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """Live with desired merged in: a preview of the apply for the client way (removals not shown)."""
    builtin = api_group(desired.get("apiVersion", "")) in BUILTIN_GROUPS
    projected: dict[str, Any] = _overlay(normalize_object(live), normalize_object(desired), "", builtin)
    return projected


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_empty(value: Any) -> bool:
    return value in ({}, [], "")


class _Comparer:
    """Walks desired against live; raises `_Decided` on a certain change, collects undecided reasons."""

    def __init__(self, builtin: bool) -> None:
        self.builtin = builtin
        self.undecided: list[str] = []

    def compare(self, path: str, key: str, want: Any, have: Any, parent: str = "") -> None:
        if want is None:
            if have is not _MISSING:
                self.undecided.append(f"{path}: null in desired, set live")
        elif have is _MISSING:
            if not _is_empty(want):
                raise _Decided(f"{path}: not set live")
            self.undecided.append(f"{path}: empty in desired, not set live (the server may drop it)")
        elif isinstance(want, dict):
            if not isinstance(have, dict):
                raise _Decided(f"{path}: a mapping in desired, not live")
            for sub, value in want.items():
                self.compare(_join(path, sub), sub, value, have.get(sub, _MISSING), key)
        elif isinstance(want, list):
            if not isinstance(have, list):
                raise _Decided(f"{path}: a list in desired, not live")
            if want != have:
                self._compare_lists(path, key, want, have)
        elif not self._scalars_equal(key, parent, want, have):
            raise _Decided(f"{path}: differs")

    def _scalars_equal(self, key: str, parent: str, want: Any, have: Any) -> bool:
        if isinstance(want, bool) or isinstance(have, bool):
            return want is have
        if want == have:
            return True
        is_quantity = self.builtin and (parent in QUANTITY_PARENTS or key == "sizeLimit")
        if is_quantity and isinstance(want, str | int | float) and isinstance(have, str | int | float):
            left = parse_quantity(str(want))
            return left is not None and left == parse_quantity(str(have))
        return False

    def _compare_lists(self, path: str, key: str, want: list[Any], have: list[Any]) -> None:
        if not any(isinstance(item, dict) for item in [*want, *have]):
            self._compare_scalar_lists(path, want, have)
            return
        keys = list_keys(key, want, builtin=self.builtin)
        if keys is not None:
            self._compare_keyed(path, keys, want, have)
            return
        if len(want) > len(have) or (len(want) < len(have) and not self.builtin):
            raise _Decided(f"{path}: {len(want)} items in desired, {len(have)} live")
        for index, item in enumerate(want):
            self.compare(f"{path}[{index}]", "", item, have[index])
        self.undecided.append(f"{path}: live items carry fields desired does not set")

    def _compare_scalar_lists(self, path: str, want: list[Any], have: list[Any]) -> None:
        try:
            missing = set(want) - set(have)
        except TypeError:
            raise _Decided(f"{path}: differs") from None
        if missing:
            raise _Decided(f"{path}: differs")
        self.undecided.append(f"{path}: live has other items or order (set or atomic list)")

    def _compare_keyed(self, path: str, keys: tuple[str, ...], want: list[Any], have: list[Any]) -> None:
        index: dict[tuple[Any, ...], Any] = {}
        for item in have:
            ident = tuple(item.get(k) for k in keys) if isinstance(item, dict) else None
            if ident is None or ident in index:
                self.undecided.append(f"{path}: live items without a unique {'+'.join(keys)}")
                return
            index[ident] = item
        for item in want:
            if not isinstance(item, dict) or any(item.get(k) is None for k in keys):
                self.undecided.append(f"{path}: an item without {'+'.join(keys)}")
                continue
            ident = tuple(item[k] for k in keys)
            label = ",".join(str(v) for v in ident)
            if ident not in index:
                raise _Decided(f"{path}[{label}]: not set live")
            self.compare(f"{path}[{label}]", "", item, index[ident])
        rank = {ident: position for position, ident in enumerate(index)}
        wanted = (tuple(item.get(k) for k in keys) for item in want if isinstance(item, dict))
        positions = [rank[ident] for ident in wanted if ident in rank]
        if positions != sorted(positions):
            self.undecided.append(f"{path}: live holds the items in another order")


def _find_removed(fields: dict[str, Any], want: Any, path: str, undecided: list[str]) -> str | None:
    """The first owned field that desired no longer sets (it would be removed), if any."""
    for key, sub in fields.items():
        prefix, _, raw = key.partition(":")
        if prefix == "f":
            value = want.get(raw, _MISSING) if isinstance(want, dict) else _MISSING
            where = _join(path, raw)
        elif prefix in ("k", "v"):
            ident = json.loads(raw)
            items = want if isinstance(want, list) else []
            if prefix == "k":
                value = next((i for i in items if isinstance(i, dict)
                              and all(i.get(k) == v for k, v in ident.items())), _MISSING)
            else:
                value = ident if ident in items else _MISSING
            where = f"{path}[{raw}]"
        elif prefix == "i":
            undecided.append(f"{path}[{raw}]: positional entry in the owned field set")
            continue
        else:  # "." marks the item itself
            continue
        if value is _MISSING or value is None:
            return where
        if sub:
            found = _find_removed(sub, value, where, undecided)
            if found:
                return found
    return None


def client_side_changed(
    desired: dict[str, Any], live: dict[str, Any], field_manager: str
) -> ClientSideResult:
    """Whether applying `desired` with `field_manager` would change `live`; see the module docstring."""
    if desired.get("apiVersion") != live.get("apiVersion"):
        return ClientSideResult(Comparison.UNDECIDED, f"apiVersion: live read as {live.get('apiVersion')}, "
                                                   f"desired is {desired.get('apiVersion')}")
    owned = owned_fields(live, field_manager)
    want, have = normalize_object(desired), normalize_object(live)
    comparer = _Comparer(api_group(desired.get("apiVersion", "")) in BUILTIN_GROUPS)
    try:
        for key, value in want.items():
            if key not in ("apiVersion", "kind"):
                comparer.compare(key, key, value, have.get(key, _MISSING))
    except _Decided as decided:
        return ClientSideResult(Comparison.CHANGED, decided.reason)
    undecided = comparer.undecided
    if owned is not None:
        removed = _find_removed({k: v for k, v in owned.items() if k != "f:status"}, want, "", undecided)
        if removed:
            reason = f"{removed}: owned by {field_manager}, no longer desired"
            return ClientSideResult(Comparison.CHANGED, reason)
    if undecided:
        return ClientSideResult(Comparison.UNDECIDED, "; ".join(undecided))
    return ClientSideResult(Comparison.UNCHANGED)
