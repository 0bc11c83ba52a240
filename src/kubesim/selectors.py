"""Label and field selectors: parse the query strings and match objects."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kubesim.errors import bad_request

Matcher = Callable[[dict[str, Any]], bool]

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
    parts, depth, current = [], 0, []
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
    tests: list[Callable[[dict[str, str]], bool]] = []
    for part in _split(selector):
        match = _REQ.match(part)
        if not match or (match.group("neg") and (match.group("op") or match.group("setop"))):
            raise bad_request(f"unable to parse requirement: found '{part.strip()}', expected: identifier")
        key, op, value = match.group("key"), match.group("op"), match.group("value")
        setop = match.group("setop")
        if match.group("neg"):
            tests.append(lambda labels, k=key: k not in labels)
        elif setop:
            values = {v.strip() for v in match.group("values").split(",") if v.strip()}
            if setop == "in":
                tests.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                tests.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
        elif op in ("=", "=="):
            tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif op == "!=":
            tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
        elif op in (">", "<"):
            tests.append(lambda labels, k=key, v=value, o=op: _compare(labels.get(k), v, o))
        else:
            tests.append(lambda labels, k=key: k in labels)

    def matcher(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(test(labels) for test in tests)

    return matcher


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
        if op == "!=":
            tests.append(lambda obj, f=field, v=value: _field_value(obj, f) != v)
        else:
            tests.append(lambda obj, f=field, v=value: _field_value(obj, f) == v)
    return lambda obj: all(test(obj) for test in tests)
