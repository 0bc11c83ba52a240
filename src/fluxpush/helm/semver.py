"""Semantic versions and the constraint syntax Flux's HelmChart `version` accepts (Masterminds/semver).

Supported: exact (`1.2.3`, `=1.2.3`, `v1.2.3`), wildcards (`*`, `0.9.x`, `1.X`, `1`), comparisons
(`>`, `>=`, `<`, `<=`, `!=`), tilde (`~1.2` = `>=1.2.0 <1.3.0`), caret (`^1.2` = `>=1.2.0 <2.0.0`,
`^0.3` = `>=0.3.0 <0.4.0`), hyphen ranges (`1.2 - 1.4`), AND by space or comma, OR by `||`.
As in Masterminds, a pre-release only matches a constraint group that itself names a pre-release.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from fluxpush.errors import InputError

_VERSION = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)(?:\.(?P<minor>0|[1-9]\d*))?(?:\.(?P<patch>0|[1-9]\d*))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)
_PART = re.compile(r"^(?P<op>>=|<=|!=|=>|=<|>|<|=|~>|~|\^)?\s*v?(?P<ver>[0-9xX*][0-9A-Za-z.*+-]*)$")
_WILDCARDS = ("x", "X", "*")


@dataclass(frozen=True, slots=True)
class Version:
    """A parsed semantic version; `sort_key` orders by semver 2.0 precedence (build ignored)."""

    major: int
    minor: int
    patch: int
    pre: tuple[tuple[int, int | str], ...] = ()  # ((0, n) numeric | (1, s) alphanumeric) per identifier
    text: str = ""

    def sort_key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        # A release sorts above its pre-releases: (1, ()) > (0, ids).
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, self.pre)

    @property
    def is_prerelease(self) -> bool:
        """Whether the version has a pre-release part (`1.0.0-rc.1`)."""
        return bool(self.pre)


def _pre_ids(pre: str | None) -> tuple[tuple[int, int | str], ...]:
    if not pre:
        return ()
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))


def parse_version(text: str) -> Version | None:
    """The version in `text` (missing minor/patch count as 0), or None when it is not semver."""
    match = _VERSION.match(text.strip())
    if not match:
        return None
    return Version(
        int(match["major"]), int(match["minor"] or 0), int(match["patch"] or 0), _pre_ids(match["pre"]), text
    )


@dataclass(frozen=True, slots=True)
class _Bound:
    op: str  # one of > >= < <= = !=
    version: Version

    def allows(self, v: Version) -> bool:
        key, bound = v.sort_key(), self.version.sort_key()
        return {
            ">": key > bound, ">=": key >= bound, "<": key < bound, "<=": key <= bound,
            "=": key == bound, "!=": key != bound,
        }[self.op]


def _floor(parts: list[int]) -> Version:
    major, minor, patch = [*parts, 0, 0, 0][:3]
    return Version(major, minor, patch)


def _wild_range(numbers: list[int]) -> list[_Bound]:
    """`1` / `1.x` → [1.0.0, 2.0.0); `1.2.x` → [1.2.0, 1.3.0); nothing → everything."""
    if not numbers:
        return [_Bound(">=", Version(0, 0, 0))]
    upper = [*numbers[:-1], numbers[-1] + 1]
    return [_Bound(">=", _floor(numbers)), _Bound("<", _floor(upper))]


def _expand(op: str, ver: str, constraint: str) -> list[_Bound]:
    core, _, suffix = ver.partition("+")[0].partition("-")
    fields = core.split(".")
    numbers: list[int] = []
    for field in fields:
        if field in _WILDCARDS:
            break
        if not field.isdigit():
            raise InputError(f"invalid version constraint {constraint!r}",
                             hint="use e.g. 1.2.x or >=1.0.0 <2.0.0")
        numbers.append(int(field))
    wildcard = len(numbers) < 3
    exact = parse_version(ver) if not wildcard or suffix else None
    if op in ("", "=") and (wildcard and not suffix):
        return _wild_range(numbers)
    if op in ("~", "~>"):
        base = _floor(numbers) if exact is None else exact
        upper = [numbers[0] + 1] if len(numbers) == 1 else [numbers[0], numbers[1] + 1]
        return [_Bound(">=", base), _Bound("<", _floor(upper))]
    if op == "^":
        base = _floor(numbers) if exact is None else exact
        index = next((i for i, n in enumerate(numbers) if n != 0), len(numbers) - 1)
        upper = numbers[: index + 1]
        upper[-1] += 1
        return [_Bound(">=", base), _Bound("<", _floor(upper))]
    op = {"=>": ">=", "=<": "<="}.get(op, op) or "="
    if wildcard and exact is None:
        low, high = _wild_range(numbers) if numbers else (_Bound(">=", Version(0, 0, 0)), None)
        mapping = {">": [_Bound(">=", high.version)] if high else [_Bound("<", Version(0, 0, 0))],
                   ">=": [low], "<": [_Bound("<", low.version)], "<=": [high] if high else [low],
                   "!=": [_Bound("<", low.version)] if not high else []}
        if op == "!=" and high:  # outside [low, high): an OR, which one bound group cannot say
            raise InputError(f"unsupported version constraint {constraint!r}",
                             hint="use != with a full version")
        return mapping[op]
    assert exact is not None
    return [_Bound(op, exact)]


@dataclass(frozen=True, slots=True)
class Constraint:
    """A parsed constraint: OR of AND-groups of bounds."""

    text: str
    groups: tuple[tuple[tuple[_Bound, ...], bool], ...]  # (bounds, group names a pre-release)

    def allows(self, v: Version) -> bool:
        """Whether `v` satisfies the constraint (pre-releases only when the group names one)."""
        return any(
            all(b.allows(v) for b in bounds)
            and (not v.is_prerelease or with_pre)
            for bounds, with_pre in self.groups
        )


def _tokens(group: str) -> list[str]:
    text = re.sub(r"(>=|<=|!=|=>|=<|~>|>|<|=|~|\^)\s+", r"\1", group.replace(",", " "))
    return text.split()


def parse_constraint(text: str) -> Constraint:
    """Parse a HelmChart `version` constraint; raises InputError naming it when invalid."""
    groups = []
    for group in (text.strip() or "*").split("||"):
        tokens = _tokens(group)
        if not tokens:
            raise InputError(f"invalid version constraint {text!r}", hint="an empty group between ||")
        bounds: list[_Bound] = []
        i = 0
        while i < len(tokens):
            if i + 2 < len(tokens) and tokens[i + 1] == "-":  # hyphen range
                low, high = tokens[i], tokens[i + 2]
                bounds += _expand(">=", low, text)
                bounds += _expand("<=", high, text) if parse_version(high) and high.count(".") == 2 \
                    else [_Bound("<", b.version) for b in _expand("", high, text) if b.op == "<"]
                i += 3
                continue
            match = _PART.match(tokens[i])
            if not match:
                raise InputError(f"invalid version constraint {text!r}",
                                 hint="use e.g. 1.2.x, ~1.2, ^1, or >=1.0.0 <2.0.0")
            bounds += _expand(match["op"] or "", match["ver"], text)
            i += 1
        with_pre = any(b.version.is_prerelease for b in bounds)
        groups.append((tuple(bounds), with_pre))
    return Constraint(text, tuple(groups))


def newest_match(constraint: str | None, versions: Iterable[str]) -> str | None:
    """The highest of `versions` (as written) that satisfies `constraint` (`*` when None), or None."""
    parsed = parse_constraint(constraint or "*")
    candidates = [v for v in (parse_version(t) for t in versions) if v is not None and parsed.allows(v)]
    return max(candidates, key=Version.sort_key).text if candidates else None
