"""postBuild variable substitution, as kustomize-controller does it (flux-semantics §3).

`envsubst` re-implements the expression language of fluxcd/pkg/envsubst (a fork of drone/envsubst)
together with its parser's quirks; `substitute_object` applies it to one rendered object the way
fluxcd/pkg/kustomize `SubstituteVariables` does; `merge_variables`, `secret_variables` and
`configmap_variables` build the variable map from `substituteFrom` sources and `substitute`.

Upstream behaviour kept on purpose, although bash differs:
- `$var` without braces is never substituted; outside an expression `$$` always emits `$`.
- Only `=` and the colon forms `:= :- :+ :?` are default operators, and all of them mean "the
  default when the variable is unset or empty". `${var-d}`, `${var+d}` and `${var?d}` do not parse:
  upstream fails them with "missing closing brace".
- `#`/`%` patterns are globs whose `*` also matches `/`; `%`/`%%` match the reversed pattern against
  the reversed value. `/ // /# /%` replace literal text; `${v/#p/}` and `${v/%p/}` leave `v` as is.
- `${#var}` and `${var:n:len}` count UTF-8 bytes, as Go's `len` and slicing do.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fluxpush.errors import SubstitutionError, YAMLError
from fluxpush.redact import register_secrets
from fluxpush.yamldoc import dump_documents, load_documents

# Flux's `varsubRegex`; RE2's [:alpha:] and [:digit:] are ASCII-only, as are the classes below.
VAR_NAME_PATTERN = "^[_[:alpha:]][_[:alpha:][:digit:]]*$"
_VAR_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
# Label or annotation that exempts one object from substitution (exact lowercase value).
SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
SUBSTITUTE_DISABLED = "disabled"

# Outside an expression only `${` (start) and `$$` (escaped `$`) mean anything.
_SPECIAL = re.compile(r"\$[{$]")
# Go's strconv.Atoi: optional sign, ASCII digits, int64 range (checked separately).
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INT64 = 1 << 63
# Inside replace arguments `\/` and `\\` escape the second character, as `$$` does.
_ESCAPABLE = {"$": ("$",), "\\": ("/", "\\")}
# Operators that supply their own value for an unset variable, so strict mode lets them pass.
_DEFAULT_OPS = frozenset({"=", ":=", ":-", ":+", ":?"})

_BAD_SUBSTITUTION = "bad substitution"
_MISSING_BRACE = "missing closing brace"
_BAD_NAME = "unable to parse variable name"
_BAD_PARAMETER = "unable to parse substitution within function"


@dataclass(frozen=True, slots=True)
class _Func:
    """One `${...}` expression: the variable, its operator and its argument nodes."""

    name: str
    op: str
    args: tuple[_Node, ...]


_Node = str | _Func
_Accept = Callable[[str], bool]


def _is_ident(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdecimal()


class _Parser:
    """Recursive descent over the inside of `${...}`, mirroring upstream's scanner modes."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self, offset: int = 0) -> str:
        return self.text[self.pos + offset: self.pos + offset + 1]

    def run(self, accept: _Accept, *, nested: bool = False, escapes: str = "") -> str | None:
        """A run of accepted characters (None if there is none); stops before `${` when `nested`."""
        text, pos, out = self.text, self.pos, []
        while pos < len(text):
            ch = text[pos]
            if nested and text.startswith("${", pos):
                break
            if ch in escapes and text[pos + 1: pos + 2] in _ESCAPABLE[ch]:
                out.append(text[pos + 1])
                pos += 2
            elif accept(ch):
                out.append(ch)
                pos += 1
            else:
                break
        if pos == self.pos:
            return None
        self.pos = pos
        return "".join(out)

    def close(self) -> None:
        if self.peek() != "}":
            raise SubstitutionError(_BAD_SUBSTITUTION)
        self.pos += 1

    def param(self, accept: _Accept, escapes: str = "") -> _Node:
        """One operator argument: a nested expression or a run of text."""
        if self.text.startswith("${", self.pos):
            self.pos += 2
            return self.expression()
        value = self.run(accept, nested=True, escapes=escapes)
        if value is None:
            raise SubstitutionError(_BAD_PARAMETER)
        return value

    def expression(self) -> _Func:
        """Parse from just after `${` to just after the matching `}`."""
        if self.peek() == "#":
            self.pos += 1
            name = self.run(_is_ident)
            if name is None:
                raise SubstitutionError(_BAD_SUBSTITUTION)
            self.close()
            return _Func(name, "#", ())
        name = self.run(_is_ident)
        if name is None:
            raise SubstitutionError(_BAD_NAME)
        ch = self.peek()
        if ch == "=" or (ch == ":" and self.peek(1) in ("=", "-", "?", "+")):
            return self.default(name)
        if ch == ":":
            return self.substring(name)
        if ch in (",", "^"):
            return self.casing(name)
        if ch == "/":
            return self.replace(name)
        if ch in ("#", "%"):
            return self.remove(name, ch)
        if ch != "}":
            raise SubstitutionError(_MISSING_BRACE)
        self.pos += 1
        return _Func(name, "", ())

    def operator(self, length: int) -> str:
        op = self.text[self.pos: self.pos + length]
        self.pos += length
        return op

    def default(self, name: str) -> _Func:
        op = self.operator(1 if self.peek() == "=" else 2)
        args: list[_Node] = []
        while self.peek() != "}":
            args.append(self.param(lambda c: c != "}"))
        self.pos += 1
        return _Func(name, op, tuple(args))

    def substring(self, name: str) -> _Func:
        self.pos += 1
        args = [self.param(lambda c: c not in ":}")]
        if self.peek() == ":":
            self.run(lambda c: c == ":")
            args.append(self.param(lambda c: c != "}"))
        self.close()
        return _Func(name, ":", tuple(args))

    def casing(self, name: str) -> _Func:
        op = self.operator(2 if self.peek(1) in (",", "^") else 1)
        self.close()
        return _Func(name, op, ())

    def remove(self, name: str, mark: str) -> _Func:
        op = self.operator(2 if self.peek(1) == mark else 1)
        args = (self.param(lambda c: c != "}"),)
        self.close()
        return _Func(name, op, args)

    def replace(self, name: str) -> _Func:
        op = self.operator(2 if self.peek(1) in ("/", "#", "%") else 1)
        args = ["" if self.peek() == "/" else self.param(lambda c: c != "/", "$\\")]
        if self.run(lambda c: c == "/") is None:
            raise SubstitutionError(_BAD_SUBSTITUTION)
        if self.peek() != "}":
            args.append(self.param(lambda c: c != "}", "$\\"))
        self.close()
        return _Func(name, op, tuple(args))


def _parse(text: str) -> list[_Node]:
    """The whole text as literal chunks and expressions; a syntax error anywhere fails it all."""
    nodes: list[_Node] = []
    literal: list[str] = []
    parser = _Parser(text)
    pos = 0
    while (match := _SPECIAL.search(text, pos)) is not None:
        literal.append(text[pos: match.start()])
        if match.group() == "$$":
            literal.append("$")
            pos = match.end()
            continue
        nodes.append("".join(literal))
        literal.clear()
        parser.pos = match.end()
        nodes.append(parser.expression())
        pos = parser.pos
    literal.append(text[pos:])
    nodes.append("".join(literal))
    return nodes


def _go_int(text: str) -> int | None:
    if not _INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if -_INT64 <= value < _INT64 else None


def _substring(value: str, args: list[str]) -> str:
    """`${v:pos}` / `${v:pos:len}` on UTF-8 bytes; an unparsable number leaves `v` unchanged."""
    data = value.encode()
    start = _go_int(args[0])
    if start is None:
        return value
    if start < 0:
        start = max(len(data) + start, 0)
    end = len(data)
    if len(args) > 1:
        length = _go_int(args[1])
        if length is None:
            return value
        end = len(data) + length if length < 0 else min(start + length, len(data))
    return data[start:end].decode(errors="replace") if start < end else ""


def _map_case(text: str, upper: bool) -> str:
    """Go's per-rune simple case mapping (Python's full mapping would turn `ß` into `SS`)."""
    if text.isascii():
        return text.upper() if upper else text.lower()
    mapped = (ch.upper() if upper else ch.lower() for ch in text)
    return "".join(new if len(new) == 1 else old for new, old in zip(mapped, text, strict=True))


def _glob_class_char(pattern: str, i: int) -> tuple[str, int]:
    if i >= len(pattern) or pattern[i] in "-]":
        raise ValueError("bad pattern")
    if pattern[i] == "\\":
        i += 1
    if i + 1 >= len(pattern):
        raise ValueError("bad pattern")
    return pattern[i], i + 1


@functools.lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str] | None:
    """Go `path.Match` syntax (`*`, `?`, `[^a-z]`, `\\x`) as a regex; None for a malformed pattern."""
    out, i = [], 0
    try:
        while i < len(pattern):
            ch = pattern[i]
            i += 1
            if ch == "*":
                out.append(".*")
            elif ch == "?":
                out.append(".")
            elif ch == "\\":
                if i >= len(pattern):
                    return None
                out.append(re.escape(pattern[i]))
                i += 1
            elif ch == "[":
                negated = pattern[i: i + 1] == "^"
                i += negated
                ranges: list[str] = []
                while not (ranges and pattern[i: i + 1] == "]"):
                    low, i = _glob_class_char(pattern, i)
                    high = low
                    if pattern[i] == "-":
                        high, i = _glob_class_char(pattern, i + 1)
                    if low <= high:
                        ranges.append(f"{re.escape(low)}-{re.escape(high)}")
                    else:  # an inverted range is allowed and matches nothing
                        ranges.append("")
                i += 1
                body = "".join(ranges)
                out.append(f"[{'^' if negated else ''}{body}]" if body else ("." if negated else "(?!)"))
            else:
                out.append(re.escape(ch))
    except ValueError:
        return None
    return re.compile("".join(out), re.DOTALL)


def _trim_prefix(value: str, pattern: str, longest: bool) -> str:
    """Drop the shortest/longest non-empty prefix that matches the glob."""
    regex = _glob(pattern)
    if regex is None:
        return value
    lengths = range(len(value), 0, -1) if longest else range(1, len(value) + 1)
    for length in lengths:
        if regex.fullmatch(value, 0, length):
            return value[length:]
    return value


def _trim_suffix(value: str, pattern: str, longest: bool) -> str:
    return _trim_prefix(value[::-1], pattern[::-1], longest)[::-1]


def _replace_prefix(value: str, args: list[str]) -> str:
    if len(args) == 2 and value.startswith(args[0]):
        return args[1] + value[len(args[0]):]
    return value


def _replace_suffix(value: str, args: list[str]) -> str:
    if len(args) == 2 and value.endswith(args[0]):
        return value[: len(value) - len(args[0])] + args[1]
    return value


_OPERATIONS: dict[str, Callable[[str, list[str]], str]] = {
    ",": lambda v, a: _map_case(v[:1], False) + v[1:],
    ",,": lambda v, a: _map_case(v, False),
    "^": lambda v, a: _map_case(v[:1], True) + v[1:],
    "^^": lambda v, a: _map_case(v, True),
    "#": lambda v, a: _trim_prefix(v, a[0], False) if a else str(len(v.encode())),
    "##": lambda v, a: _trim_prefix(v, a[0], True),
    "%": lambda v, a: _trim_suffix(v, a[0], False),
    "%%": lambda v, a: _trim_suffix(v, a[0], True),
    ":": _substring,
    "/": lambda v, a: v.replace(a[0], a[1] if len(a) > 1 else "", 1),
    "//": lambda v, a: v.replace(a[0], a[1] if len(a) > 1 else ""),
    "/#": _replace_prefix,
    "/%": _replace_suffix,
}


def _default(value: str, args: list[str]) -> str:
    """Upstream's fallback for `${v}`, every default operator and unknown ones such as `,^`."""
    return "".join(args) if not value and args else value


def _evaluate(func: _Func, variables: Mapping[str, str], strict: bool) -> str:
    args = [arg if isinstance(arg, str) else _evaluate(arg, variables, strict) for arg in func.args]
    value = variables.get(func.name)
    if value is None:
        if strict and func.op not in _DEFAULT_OPS:
            raise SubstitutionError(f'variable not set (strict mode): "{func.name}"')
        value = ""
    return _OPERATIONS.get(func.op, _default)(value, args)


def envsubst(text: str, variables: Mapping[str, str], *, strict: bool) -> str:
    """Expand `${...}` expressions in `text` as Flux's envsubst does; raises SubstitutionError."""
    if "$" not in text:
        return text
    nodes = _parse(text)
    return "".join(node if isinstance(node, str) else _evaluate(node, variables, strict) for node in nodes)


def merge_variables(substitute_from: Sequence[Mapping[str, str]],
                    substitute: Mapping[str, str]) -> dict[str, str]:
    """Later sources overwrite earlier ones, inline `substitute` overwrites all; `\\n` is removed."""
    merged: dict[str, str] = {}
    for source in substitute_from:
        merged.update(source)
    merged.update(substitute)
    invalid = [name for name in merged if not _VAR_NAME.fullmatch(name)]
    if invalid:
        raise SubstitutionError("; ".join(
            f"'{name}' var name is invalid, must match '{VAR_NAME_PATTERN}'" for name in invalid))
    return {name: value.replace("\n", "") for name, value in merged.items()}


def _string_map(obj: dict[str, Any], field: str) -> dict[str, str]:
    values = obj.get(field) or {}
    where = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
    if not isinstance(values, dict):
        raise SubstitutionError(f"{where}: {field} must be a map of strings")
    for key, value in values.items():
        if not isinstance(value, str):
            raise SubstitutionError(f"{where}: {field}.{key} must be a string")
    return {str(key): value for key, value in values.items()}


def secret_variables(secret: dict[str, Any]) -> dict[str, str]:
    """A Secret's variables: base64 `data` decoded as UTF-8, overwritten by `stringData`."""
    where = f"Secret/{(secret.get('metadata') or {}).get('name')}"
    variables = {}
    for key, encoded in _string_map(secret, "data").items():
        try:
            raw = base64.b64decode(encoded.replace("\r", "").replace("\n", ""), validate=True)
        except binascii.Error as exc:
            raise SubstitutionError(f"{where}: data.{key} is not valid base64") from exc
        try:
            variables[key] = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SubstitutionError(f"{where}: data.{key} is not UTF-8 text") from exc
    variables.update(_string_map(secret, "stringData"))
    register_secrets(variables.values())
    return variables


def configmap_variables(cm: dict[str, Any]) -> dict[str, str]:
    """A ConfigMap's variables: its `data` (`binaryData` is ignored, as in Flux)."""
    return _string_map(cm, "data")


def _is_disabled(metadata: dict[str, Any]) -> bool:
    return any((metadata.get(field) or {}).get(SUBSTITUTE_KEY) == SUBSTITUTE_DISABLED
               for field in ("labels", "annotations"))


def _has_expansion(value: Any) -> bool:
    """Whether any key or string holds `${` or `$$`, the only text envsubst would change."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "${" in item or "$$" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _gvk(obj: dict[str, Any]) -> str:
    """kustomize's `Gvk.String()`: `Kind.version.group`, e.g. `ConfigMap.v1.[noGrp]`."""
    group, slash, version = str(obj.get("apiVersion") or "").partition("/")
    if not slash:
        group, version = "", group
    return f"{obj.get('kind') or '[noKind]'}.{version or '[noVer]'}.{group or '[noGrp]'}"


def substitute_object(obj: dict[str, Any], variables: Mapping[str, str], *, strict: bool,
                      always: bool = False, node: str | None = None) -> dict[str, Any]:
    """Substitute one rendered object through its YAML text, so values are re-typed, like Flux.

    Returned unchanged when labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled`,
    when `variables` is empty and not `always` (substituteStrategy WithVariables), or when no string
    holds `${` or `$$`.
    """
    metadata = obj.get("metadata") or {}
    if _is_disabled(metadata) or not (variables or always) or not _has_expansion(obj):
        return obj
    where = f"post build failed for '{_gvk(obj)}/{metadata.get('name', '')}': envsubst error"
    try:
        text = envsubst(dump_documents([obj]), variables, strict=strict)
    except SubstitutionError as exc:
        raise SubstitutionError(f"{where}: variable substitution failed: {exc.message}", node=node) from exc
    try:
        documents = load_documents(text, where)
    except YAMLError as exc:
        line = f"line {exc.origin.line}: " if exc.origin and exc.origin.line else ""
        raise SubstitutionError(f"{where}: YAMLToJSON: {line}{exc.message}", node=node) from exc
    if len(documents) != 1 or not isinstance(documents[0].data, dict):
        raise SubstitutionError(f"{where}: YAMLToJSON: the substituted text is not one YAML mapping",
                                node=node)
    return documents[0].data
