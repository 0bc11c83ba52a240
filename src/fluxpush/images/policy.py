"""An ImagePolicy's choice of tag, exactly as image-reflector-controller makes it.

Matched behaviour (internal/policy and the ImagePolicy reconciler, API v1/v1beta2):
- the tags are the ImageRepository's after its `exclusionList`, in the order its database keeps them
  (sorted in descending string order by the scan);
- `filterTags.pattern` keeps the tags it matches anywhere (Go regexp); with `extract` each kept tag is
  replaced by the expansion (`$1`, `$name`, `${name}`) and the policy ranks the extracted values,
  answering with the original tag (when two tags extract to the same value the later one in the
  list wins, as the controller's map does);
- `semver.range`: a Masterminds constraint; tags that are not three-part versions are ignored; the
  highest matching version wins, the first of equal ones (`1.0.0` vs `v1.0.0`); no match is an error;
- `alphabetical.order`: `asc` (default) picks the greatest string (byte order), `desc` the least;
- `numerical.order`: `asc` (default) the greatest number, `desc` the least; every candidate must parse
  as Go's `strconv.ParseFloat` (else the policy fails, as in the controller); ties: the later one.
Each decision says why it chose what it chose.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from fluxpush.errors import InputError
from fluxpush.helm.semver import newest_match, parse_constraint, parse_version
from fluxpush.images.goregexp import compile_go, expand

ORDERS = ("ASC", "DESC")
REFLECTION_POLICIES = ("Never", "IfNotPresent", "Always")
_GO_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_GO_HEX = re.compile(r"^([+-]?)0[xX]((?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+)[pP][+-]?[0-9_]+)$")
_GO_SPECIAL = re.compile(r"^(?:([+-]?)(inf|infinity)|(nan))$", re.IGNORECASE)  # Go: no sign on NaN


class PolicyFailed(Exception):
    """The policy found no tag (the controller's error, e.g. no version matches the range)."""


def go_parse_float(text: str) -> float | None:
    """Go's `strconv.ParseFloat(text, 64)`, or None where Go returns an error (syntax or range)."""
    special = _GO_SPECIAL.match(text)
    if special:
        value = math.nan if special[3] else math.inf
        return -value if special[1] == "-" else value
    if _GO_DECIMAL.match(text):
        value = float(text)
    elif (hexa := _GO_HEX.match(text)) is not None:
        try:
            value = float.fromhex(hexa[1] + "0x" + hexa[2].replace("_", ""))
        except (OverflowError, ValueError):
            return None
    else:
        return None
    return None if math.isinf(value) else value


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """The parts of an ImagePolicy spec that choose a tag."""

    kind: str  # semver | alphabetical | numerical
    argument: str  # the range, or the upper-cased order
    pattern: str | None = None
    extract: str = ""
    digest_reflection: str = "Never"

    @classmethod
    def from_spec(cls, spec: dict[str, Any], api_version: str, where: str) -> PolicySpec:
        """From an ImagePolicy's `spec`; an InputError naming `where` for an invalid choice."""
        choice = spec.get("policy") or {}
        filters = spec.get("filterTags")
        reflection = str(spec.get("digestReflectionPolicy") or "Never")
        if api_version.endswith("v1beta1"):
            reflection = "Never"  # v1beta1 has no digestReflectionPolicy; the API server drops it
        if reflection not in REFLECTION_POLICIES:
            raise InputError(f"{where}: digestReflectionPolicy {reflection!r} is not one of "
                             f"{', '.join(REFLECTION_POLICIES)}", field="spec.digestReflectionPolicy")
        # A filterTags without pattern compiles "" (matches every tag), as the controller does.
        pattern = str(filters.get("pattern") or "") if isinstance(filters, dict) else None
        extract = str(filters.get("extract") or "") if isinstance(filters, dict) else ""

        def make(kind: str, argument: str) -> PolicySpec:
            return cls(kind, argument, pattern, extract, reflection)

        # The controller's factory checks semver, then alphabetical, then numerical.
        if isinstance(choice.get("semver"), dict):
            parse_constraint(str(choice["semver"].get("range", "")))  # an invalid range fails now
            return make("semver", str(choice["semver"].get("range", "")))
        for kind in ("alphabetical", "numerical"):
            if isinstance(choice.get(kind), dict):
                order = str(choice[kind].get("order") or "").upper() or "ASC"
                if order not in ORDERS:
                    raise InputError(f"{where}: invalid order argument provided: {order!r}, "
                                     "must be one of: asc, desc", field=f"spec.policy.{kind}.order")
                return make(kind, order)
        raise InputError(f"{where}: spec.policy names no semver, alphabetical or numerical choice",
                         field="spec.policy")

    def describe(self) -> str:
        """`semver >=1.0.0`, `numerical asc`, with the filter when there is one."""
        text = f"{self.kind} {self.argument if self.kind == 'semver' else self.argument.lower()}"
        if self.pattern is not None:
            text += f", filterTags {self.pattern!r}" + (f" extract {self.extract!r}" if self.extract else "")
        return text


@dataclass(frozen=True, slots=True)
class PolicyChoice:
    """The chosen tag and why."""

    tag: str
    why: str


def _filtered(spec: PolicySpec, tags: list[str], where: str) -> dict[str, str]:
    """value the policy ranks → original tag, in the controller's order."""
    if spec.pattern is None:
        return {tag: tag for tag in tags}
    regexp = compile_go(spec.pattern, f"{where}: filterTags")
    kept: dict[str, str] = {}
    for tag in tags:
        match = regexp.search(tag)
        if match:
            kept[expand(spec.extract, match) if spec.extract else tag] = tag
    return kept


def _semver_matches(spec: PolicySpec, values: list[str]) -> list[str]:
    """The values fluxcd/pkg's ParseVersion accepts (three dot-separated parts) that match the range."""
    constraint = parse_constraint(spec.argument)
    return [value for value in values if value.count(".") >= 2
            and (version := parse_version(value)) is not None and constraint.allows(version)]


def _numerical(spec: PolicySpec, values: list[str]) -> str:
    latest, previous = "", 0.0
    for index, value in enumerate(values):
        number = go_parse_float(value)
        if number is None:
            raise PolicyFailed(f"failed to parse invalid numeric value '{value}'")
        if index > 0 and ((spec.argument == "ASC" and number < previous)
                          or (spec.argument == "DESC" and number > previous)):
            continue
        latest, previous = value, number
    return latest


def _rank(spec: PolicySpec, values: list[str]) -> tuple[str, int]:
    """The chosen value and how many values were candidates."""
    if not values:
        raise PolicyFailed("version list argument cannot be empty")
    if spec.kind == "semver":
        matches = _semver_matches(spec, values)
        found = newest_match(spec.argument, matches)
        if found is None:
            raise PolicyFailed("unable to determine latest version from provided list")
        return found, len(matches)
    if spec.kind == "numerical":
        return _numerical(spec, values), len(values)
    return (max(values) if spec.argument == "ASC" else min(values)), len(values)


def choose(spec: PolicySpec, tags: list[str], where: str) -> PolicyChoice:
    """The tag `spec` picks from the repository's (already exclusion-filtered) `tags`.

    Raises PolicyFailed (with the controller's words) when it picks none, InputError for a pattern
    Go would refuse."""
    ordered = sorted(tags, reverse=True)
    kept = _filtered(spec, ordered, where)
    value, candidates = _rank(spec, list(kept))
    dropped = len(ordered) - len(kept)
    ascending = spec.argument == "ASC"
    if spec.kind == "semver":
        text = f"newest of {candidates} tags matching {spec.argument}"
    elif spec.kind == "alphabetical":
        text = f"{'last' if ascending else 'first'} of {candidates} tags in string order"
    else:
        text = f"{'highest' if ascending else 'lowest'} of {candidates} tags as numbers"
    if spec.pattern is not None:
        text += f"; {dropped} excluded by filterTags"
        if spec.extract and kept[value] != value:
            text += f" (extracted {value!r})"
    return PolicyChoice(kept[value], text)
