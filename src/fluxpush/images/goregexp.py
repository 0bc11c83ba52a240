"""Go's `regexp` (RE2 syntax) as image-reflector-controller uses it, on Python's `re`.

Go and Python agree on leftmost-first matching and on most syntax; this module translates the rest
(`(?<name>…)`, `\\z`, POSIX classes `[[:alpha:]]`, ASCII `\\d \\w \\s`), refuses what RE2 refuses
(look-arounds, back-references) or Python cannot express (`\\p{…}`), and ports `Regexp.Expand`
(`$1`, `$name`, `${name}`, `$$`) for `filterTags.extract`.
"""

from __future__ import annotations

import re

from fluxpush.errors import InputError

_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7F", "blank": "\\t ",
    "cntrl": "\\x00-\\x1F\\x7F", "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~",
    "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_REFUSED = (
    (re.compile(r"\(\?<?[=!]"), "look-arounds"),
    (re.compile(r"(?<!\\)\\[1-9]"), "back-references"),
    (re.compile(r"\\[pP]"), "Unicode classes (\\p{…})"),
    (re.compile(r"\\Z"), "\\Z (use \\z or $)"),
)
_NAME_CHAR = re.compile(r"[\w]", re.UNICODE)


def compile_go(pattern: str, what: str) -> re.Pattern[str]:
    """Compile a Go regular expression; an InputError naming `what` when Go or Python refuses it."""
    for check, construct in _REFUSED:
        if check.search(pattern):
            raise InputError(f"{what}: invalid regular expression pattern {pattern!r}: "
                             f"Go's regexp does not support {construct}")
    text = pattern.replace("(?<", "(?P<").replace("\\z", "\\Z")
    text = re.sub(r"\[:(\^?)(\w+):\]", lambda m: _posix(m, pattern, what), text)
    try:
        return re.compile(text, re.ASCII)
    except re.error as exc:
        raise InputError(f"{what}: invalid regular expression pattern {pattern!r}: {exc}") from None


def _posix(match: re.Match[str], pattern: str, what: str) -> str:
    if match[2] not in _POSIX:
        raise InputError(f"{what}: invalid regular expression pattern {pattern!r}: "
                         f"unknown character class [:{match[2]}:]")
    if match[1]:
        raise InputError(f"{what}: negated POSIX classes ([:^{match[2]}:]) are not supported")
    return _POSIX[match[2]]


def _reference(template: str) -> tuple[str, int, str] | None:
    """Go's `extract`: the name after `$` (and its number, or -1), and the rest; None if malformed."""
    brace = template.startswith("{")
    body = template[1:] if brace else template
    size = 0
    while size < len(body) and _NAME_CHAR.match(body[size]):
        size += 1
    if size == 0 or (brace and body[size:size + 1] != "}"):
        return None
    name = body[:size]
    rest = body[size + 1:] if brace else body[size:]
    number = int(name) if name.isascii() and name.isdigit() and len(name) <= 8 else -1
    if len(name) > 1 and name[0] == "0":
        number = -1
    return name, number, rest


def _group(match: re.Match[str], name: str, number: int) -> str:
    if number >= 0:
        return (match.group(number) or "") if number <= (match.re.groups) else ""
    if name in match.re.groupindex:
        return match.group(name) or ""
    return ""


def expand(template: str, match: re.Match[str]) -> str:
    """Go's `Regexp.ExpandString`: `$n`/`${n}` and `$name`/`${name}` replaced by the submatch
    (empty when it does not exist), `$$` by `$`, a malformed `$` kept as is."""
    out: list[str] = []
    while True:
        before, dollar, template = template.partition("$")
        out.append(before)
        if not dollar:
            return "".join(out)
        if template.startswith("$"):
            out.append("$")
            template = template[1:]
            continue
        found = _reference(template)
        if found is None:
            out.append("$")
            continue
        name, number, template = found
        out.append(_group(match, name, number))
