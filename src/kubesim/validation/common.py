"""Field errors worded like k8s.io/apimachinery's field.Error, and the value checks they share."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from kubesim.errors import field_cause

Obj = dict[str, Any]
Cause = dict[str, Any]

DNS1123_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1035_LABEL = r"[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    f"validation is '{DNS1123_SUBDOMAIN}')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    f"validation is '{DNS1123_LABEL}')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    f"regex used for validation is '{DNS1035_LABEL}')"
)
QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
    f"is '{QUALIFIED_NAME}')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
    f"'12345', regex used for validation is '{LABEL_VALUE}')"
)


# The API group of each built-in kind validated here; a custom resource may reuse a kind name.
BUILTIN_GROUPS = {
    "Deployment": "apps",
    "StatefulSet": "apps",
    "DaemonSet": "apps",
    "ReplicaSet": "apps",
    "Job": "batch",
    "CronJob": "batch",
    "HorizontalPodAutoscaler": "autoscaling",
    "PodDisruptionBudget": "policy",
    "Ingress": "networking.k8s.io",
    "Role": "rbac.authorization.k8s.io",
    "ClusterRole": "rbac.authorization.k8s.io",
    "RoleBinding": "rbac.authorization.k8s.io",
    "ClusterRoleBinding": "rbac.authorization.k8s.io",
    "CustomResourceDefinition": "apiextensions.k8s.io",
}


def builtin_kind(obj: Obj) -> str | None:
    """The kind when `obj` is the built-in of that name (core kinds have no group), else None."""
    kind = str(obj.get("kind", ""))
    api_version = str(obj.get("apiVersion", ""))
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return kind if BUILTIN_GROUPS.get(kind, "") == group else None


def _selector_order(value: Obj) -> Obj:
    """A LabelSelector in struct field order (matchLabels before matchExpressions), as Go marshals it."""
    ordered: Obj = {}
    if value.get("matchLabels"):
        ordered["matchLabels"] = dict(sorted(value["matchLabels"].items()))
    if value.get("matchExpressions"):
        ordered["matchExpressions"] = [
            {k: e[k] for k in ("key", "operator", "values") if e.get(k) is not None}
            for e in value["matchExpressions"]
        ]
    return ordered


def go_json(value: Any, sort_keys: bool = True) -> str:
    """Go's json.Marshal: compact, map keys sorted, <, > and & escaped."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=sort_keys, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def go_value(value: Any) -> str:
    """A bad value as field.Error prints it since Kubernetes 1.34: %q for strings, %v for numbers
    and booleans, JSON for everything else (`{"matchLabels":{"app":"web"}}`, `["None"]`)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, dict) and value and set(value) <= {"matchLabels", "matchExpressions"}:
        return go_json(_selector_order(value), sort_keys=False)
    return go_json(value)


def required(field: str, detail: str = "") -> Cause:
    """field.Required."""
    return field_cause(
        "FieldValueRequired", field, f"Required value: {detail}" if detail else "Required value"
    )


def invalid(field: str, value: Any, detail: str, shown: str | None = None) -> Cause:
    """field.Invalid (`shown` overrides how the value is printed)."""
    return field_cause("FieldValueInvalid", field, f"Invalid value: {shown or go_value(value)}: {detail}")


def forbidden(field: str, detail: str) -> Cause:
    """field.Forbidden."""
    return field_cause("FieldValueForbidden", field, f"Forbidden: {detail}")


def unsupported(field: str, value: Any, supported: tuple[str, ...]) -> Cause:
    """field.NotSupported with the supported values listed as the server lists them."""
    listed = ", ".join(json.dumps(v) for v in supported)
    return field_cause(
        "FieldValueNotSupported", field, f"Unsupported value: {go_value(value)}: supported values: {listed}"
    )


def duplicate(field: str, value: Any) -> Cause:
    """field.Duplicate."""
    return field_cause("FieldValueDuplicate", field, f"Duplicate value: {go_value(value)}")


def not_found(field: str, value: Any) -> Cause:
    """field.NotFound."""
    return field_cause("FieldValueNotFound", field, f"Not found: {go_value(value)}")


def immutable(field: str, value: Any) -> Cause:
    """field.Invalid with the `field is immutable` detail (ValidateImmutableField)."""
    return invalid(field, value, "field is immutable")


def dns_errors(value: str, pattern: str, message: str, limit: int) -> list[str]:
    """The messages of IsDNS1123Subdomain/IsDNS1123Label/IsDNS1035Label for `value`."""
    errors = []
    if len(value) > limit:
        errors.append(f"must be no more than {limit} characters")
    if not re.fullmatch(pattern, value):
        errors.append(message)
    return errors


def is_subdomain(value: str) -> list[str]:
    """IsDNS1123Subdomain."""
    return dns_errors(value, DNS1123_SUBDOMAIN, SUBDOMAIN_MSG, 253)


def is_label(value: str) -> list[str]:
    """IsDNS1123Label."""
    return dns_errors(value, DNS1123_LABEL, LABEL_MSG, 63)


def qualified_name_errors(value: str) -> list[str]:
    """IsQualifiedName: an optional DNS subdomain prefix, '/', and a name part."""
    parts = value.split("/")
    if len(parts) > 2:
        return [
            f"a qualified name {QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    errors = []
    if len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors += [f"prefix part {msg}" for msg in is_subdomain(prefix)]
    else:
        name = parts[0]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if name and not re.fullmatch(QUALIFIED_NAME, name):
        errors.append(f"name part {QUALIFIED_NAME_MSG}")
    return errors


def label_value_errors(value: str) -> list[str]:
    """IsValidLabelValue."""
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not re.fullmatch(LABEL_VALUE, value):
        errors.append(LABEL_VALUE_MSG)
    return errors


_QUANTITY = re.compile(r"([+-]?[0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?")
_SUFFIX = {
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}


def parse_quantity(text: Any) -> Decimal | None:
    """A resource.Quantity (`500m`, `1Gi`, `2e3`, `3`) as a number; None when malformed."""
    match = _QUANTITY.fullmatch(str(text))
    if match is None:
        return None
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        return None
    suffix = match.group(2) or ""
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        return number * Decimal(10) ** int(suffix[1:])
    return number * _SUFFIX.get(suffix, Decimal(1))
