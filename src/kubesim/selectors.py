"""Label and field selectors: parse the query strings and match objects."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kubesim.errors import bad_request

Matcher = Callable[[dict[str, Any]], bool]
LabelTest = Callable[[dict[str, str]], bool]

# Field selectors the server accepts beyond metadata.name/namespace, by resource.
EXTRA_FIELDS = {
    "secrets": {"type"},
    "pods": {"spec.nodeName", "status.phase", "spec.restartPolicy", "spec.schedulerName",
             "spec.serviceAccountName", "status.podIP"},
    "events": {"involvedObject.kind", "involvedObject.name", "involvedObject.namespace",
               "involvedObject.uid", "reason", "type", "source"},
    "namespaces": {"status.phase"},
    "jobs": {"status.successful"},
}

_REQ = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9_./-]+)\s*"
    r"(?:(?P<op>==|!=|=|>|<)\s*(?P<value>[A-Za-z0-9_.-]*)|\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?\s*$"
)


def _split(selector: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def parse_label_selector(selector: str | None) -> Matcher:
    """A predicate over objects for a label selector string (`a=b,c!=d,e in (f,g),!h`)."""
    if not selector:
        return lambda obj: True
    tests: list[LabelTest] = []
    for part in _split(selector):
        match = _REQ.match(part)
        if not match or (match.group("neg") and (match.group("op") or match.group("setop"))):
            raise bad_request(f"unable to parse requirement: found '{part.strip()}', expected: identifier")
        tests.append(_label_test(match))

    def matcher(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(test(labels) for test in tests)

    return matcher


def _label_test(match: re.Match[str]) -> LabelTest:
    """The test one parsed requirement makes of an object's labels."""
    key, op, value, setop = match.group("key"), match.group("op"), match.group("value"), match.group("setop")
    if match.group("neg"):
        return lambda labels: key not in labels
    if setop:
        values = {v.strip() for v in match.group("values").split(",") if v.strip()}
        if setop == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if op in ("=", "=="):
        return lambda labels: labels.get(key) == value
    if op == "!=":
        return lambda labels: labels.get(key) != value
    if op in (">", "<"):
        return lambda labels: _compare(labels.get(key), value, op)
    return lambda labels: key in labels


def _field_test(field: str, op: str, value: str) -> Matcher:
    if op == "!=":
        return lambda obj: _field_value(obj, field) != value
    return lambda obj: _field_value(obj, field) == value


def _compare(actual: str | None, wanted: str, op: str) -> bool:
    try:
        a, w = int(actual or ""), int(wanted)
    except ValueError:
        return False
    return a > w if op == ">" else a < w


def _field_value(obj: dict[str, Any], path: str) -> str:
    current: Any = obj
    for part in path.split("."):
        current = current.get(part) if isinstance(current, dict) else None
    if current is None:
        return ""
    return str(current).lower() if isinstance(current, bool) else str(current)


def parse_field_selector(selector: str | None, resource: str) -> Matcher:
    """A predicate for a field selector; unsupported fields are a 400 like the real server's."""
    if not selector:
        return lambda obj: True
    tests: list[Matcher] = []
    allowed = {"metadata.name", "metadata.namespace"} | EXTRA_FIELDS.get(resource, set())
    for part in _split(selector):
        match = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*$", part)
        if not match:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{part}'")
        field, op, value = match.groups()
        if field not in allowed:
            raise bad_request(f'field label not supported: {field}')
        tests.append(_field_test(field, op, value))
    return lambda obj: all(test(obj) for test in tests)
