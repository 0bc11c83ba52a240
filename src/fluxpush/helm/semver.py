"""Semantic versions and constraints exactly as Masterminds/semver v3 (v3.5) evaluates them.

Flux uses this library for a HelmChart's `version` (source-controller) and an ImagePolicy's `semver`
range (image-reflector-controller), so both go through here. Ported behaviour, quirks included:
versions parse loosely (`NewVersion` with `CoerceNewVersion`: `v1`, `1.2`, leading zeros in numbers;
a pre-release identifier may not be a zero-padded number); constraints are OR (`||`) of AND groups
(space or comma), each `op version` with `=`, `!=`, `>`, `<`, `>=`, `<=`, `~`, `~>`, `^` or none,
wildcards `x`/`X`/`*` or missing parts ("dirty" constraints with Masterminds' own rules per
operator), hyphen ranges `a - b` rewritten to `>= a, <= b`; a pre-release version only satisfies a
group in which some constraint names a pre-release.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fluxpush.errors import InputError

_UINT64_MAX = 2**64 - 1
_LOOSE = re.compile(
    r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
    r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$", re.ASCII)
_CV = (r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
       r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?")
_OPS = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^"
_S = r"[\t\n\f\r ]"  # Go's \s
_CONSTRAINT = re.compile(rf"^{_S}*({_OPS}){_S}*({_CV}){_S}*$")
_RANGE = re.compile(rf"{_S}*({_CV}){_S}+-{_S}+({_CV}){_S}*")
_FIND = re.compile(rf"({_OPS}){_S}*({_CV})")
_VALID = re.compile(rf"^({_S}*({_OPS}){_S}*({_CV}){_S}*)((?:{_S}+|,{_S}*)({_OPS}){_S}*({_CV}){_S}*)*$")

PreId = tuple[int, int | str]  # (0, number) or (1, alphanumeric): numbers sort first


def _uint(text: str) -> int | None:
    """Go's strconv.ParseUint(text, 10, 64), or None when it fails."""
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value <= _UINT64_MAX else None


def _pre_ids(pre: str) -> tuple[PreId, ...]:
    ids: list[PreId] = []
    for part in pre.split("."):
        number = _uint(part)
        ids.append((0, number) if number is not None else (1, part))
    return tuple(ids)


def _valid_pre(pre: str) -> bool:
    return all(part and not (part.isdigit() and len(part) > 1 and part[0] == "0") for part in pre.split("."))


@dataclass(frozen=True, slots=True)
class Version:
    """A parsed version; `text` is the original string (Masterminds' `Original()`)."""

    major: int
    minor: int
    patch: int
    pre: str = ""
    text: str = ""

    def sort_key(self) -> tuple[int, int, int, int, tuple[PreId, ...]]:
        """Masterminds' `Compare` order (build metadata ignored; a release above its pre-releases)."""
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, _pre_ids(self.pre))


def parse_version(text: str) -> Version | None:
    """Masterminds' `NewVersion(text)` (missing minor/patch count as 0), or None when it fails."""
    match = _LOOSE.match(text)
    if not match:
        return None
    numbers = [_uint((match[i] or "0").lstrip(".")) for i in (1, 2, 3)]
    pre = match[5] or ""
    if any(n is None for n in numbers) or (pre and not _valid_pre(pre)):
        return None
    major, minor, patch = (int(n or 0) for n in numbers)
    return Version(major, minor, patch, pre, text)


def _cmp(a: Version, b: Version) -> int:
    ka, kb = a.sort_key(), b.sort_key()
    return (ka > kb) - (ka < kb)


@dataclass(frozen=True, slots=True)
class _Term:
    """One `op version` of a constraint, with which of its parts were wildcards or missing."""

    op: str
    con: Version
    dirty: bool
    minor_dirty: bool
    patch_dirty: bool


def _not_equal(v: Version, c: _Term) -> bool:
    if c.dirty:
        if c.con.major != v.major:
            return True
        if c.con.minor != v.minor and not c.minor_dirty:
            return True
        if c.minor_dirty:
            return False
        if c.con.patch != v.patch and not c.patch_dirty:
            return True
        if c.patch_dirty:
            return bool(v.pre or c.con.pre) and _pre_ids(v.pre) != _pre_ids(c.con.pre)
    return _cmp(v, c.con) != 0


def _greater(v: Version, c: _Term) -> bool:
    if not c.dirty or (v.major == c.con.major and not c.minor_dirty and not c.patch_dirty):
        return _cmp(v, c.con) == 1
    if v.major != c.con.major:
        return v.major > c.con.major
    return False if c.minor_dirty else v.minor > c.con.minor


def _less_equal(v: Version, c: _Term) -> bool:
    if not c.dirty:
        return _cmp(v, c.con) <= 0
    if v.major > c.con.major:
        return False
    return not (v.major == c.con.major and v.minor > c.con.minor and not c.minor_dirty)


def _tilde(v: Version, c: _Term) -> bool:
    if _cmp(v, c.con) < 0:
        return False
    if (c.con.major, c.con.minor, c.con.patch) == (0, 0, 0) and not c.minor_dirty and not c.patch_dirty:
        return True
    return v.major == c.con.major and (v.minor == c.con.minor or c.minor_dirty)


def _tilde_or_equal(v: Version, c: _Term) -> bool:
    return _tilde(v, c) if c.dirty else _cmp(v, c.con) == 0


def _caret(v: Version, c: _Term) -> bool:
    if _cmp(v, c.con) < 0:
        return False
    if c.con.major > 0 or c.minor_dirty:
        return v.major == c.con.major
    if v.major > 0:
        return False
    if c.con.minor > 0 or c.patch_dirty:
        return v.minor == c.con.minor
    return v.minor == 0 and v.patch == c.con.patch


_CHECKS: dict[str, Callable[[Version, _Term], bool]] = {
    "": _tilde_or_equal, "=": _tilde_or_equal, "!=": _not_equal,
    ">": _greater, "<": lambda v, c: _cmp(v, c.con) < 0,
    ">=": lambda v, c: _cmp(v, c.con) >= 0, "=>": lambda v, c: _cmp(v, c.con) >= 0,
    "<=": _less_equal, "=<": _less_equal, "~": _tilde, "~>": _tilde, "^": _caret,
}


def _is_x(part: str) -> bool:
    return part in ("x", "X", "*")


def _term(text: str, constraint: str) -> _Term:
    match = _CONSTRAINT.match(text)
    if not match:
        raise InputError(f"invalid version constraint {constraint!r}: improper constraint {text!r}",
                         hint="use e.g. 1.2.x, ~1.2, ^1, or >=1.0.0 <2.0.0")
    major, minor, patch, pre = match[3], match[4] or "", match[5] or "", match[6] or ""
    dirty = minor_dirty = patch_dirty = False
    version = match[2]
    if _is_x(major) or not major:
        version, dirty = f"0.0.0{pre}", True
    elif _is_x(minor.lstrip(".")) or not minor:
        version, dirty, minor_dirty = f"{major}.0.0{pre}", True, True
    elif _is_x(patch.lstrip(".")) or not patch:
        version, dirty, patch_dirty = f"{major}{minor}.0{pre}", True, True
    parsed = parse_version(version)
    if parsed is None:
        raise InputError(f"invalid version constraint {constraint!r}: {text.strip()!r} is not a version",
                         hint="use e.g. 1.2.x, ~1.2, ^1, or >=1.0.0 <2.0.0")
    return _Term(match[1], parsed, dirty, minor_dirty, patch_dirty)


@dataclass(frozen=True, slots=True)
class Constraint:
    """A parsed constraint: OR of AND-groups of terms."""

    text: str
    groups: tuple[tuple[tuple[_Term, ...], bool], ...]  # (terms, some term names a pre-release)

    def allows(self, v: Version) -> bool:
        """Masterminds' `Constraints.Check(v)`."""
        return any(
            (not v.pre or with_pre) and all(_CHECKS[t.op](v, t) for t in terms)
            for terms, with_pre in self.groups
        )


def _rewrite_ranges(text: str) -> str:
    for match in _RANGE.finditer(text):
        text = text.replace(match[0], f">= {match[1]}, <= {match[11]} ", 1)
    return text


def parse_constraint(text: str) -> Constraint:
    """Masterminds' `NewConstraint(text)`; an InputError naming the constraint when it is invalid."""
    groups = []
    for group in _rewrite_ranges(text).split("||"):
        if not _VALID.match(group):
            raise InputError(f"invalid version constraint {text!r}",
                             hint="use e.g. 1.2.x, ~1.2, ^1, or >=1.0.0 <2.0.0 (|| between alternatives)")
        terms = tuple(_term(found[0], text) for found in _FIND.finditer(group)) or (_term(group, text),)
        groups.append((terms, any(t.con.pre for t in terms)))
    return Constraint(text, tuple(groups))


def newest_match(constraint: str | None, versions: Iterable[str]) -> str | None:
    """The highest of `versions` (as written) that satisfies `constraint` (`*` when None), or None.

    Among equal versions (`1.0.0`, `v1.0.0`) the first one given wins, as with Masterminds'
    strict `GreaterThan` over a list.
    """
    parsed = parse_constraint(constraint or "*")
    best: Version | None = None
    for text in versions:
        version = parse_version(text)
        if version is not None and parsed.allows(version) and (best is None or _cmp(version, best) > 0):
            best = version
    return best.text if best else None
