"""Object names and metadata: which DNS rule each kind's name follows, labels and annotations."""

from __future__ import annotations

from typing import Any

from kubesim.validation.common import (
    DNS1035_LABEL,
    DNS1035_MSG,
    Cause,
    dns_errors,
    invalid,
    is_label,
    is_subdomain,
    label_value_errors,
    qualified_name_errors,
    required,
)

# Built-in kinds, by (group, kind), whose names are DNS-1123 labels (no dots) rather than subdomains;
# a custom resource of the same kind name in another group keeps the subdomain rule.
LABEL_NAMED = {("", "Namespace")}
# Built-in kinds whose names are DNS-1035 labels (start with a letter).
DNS1035_NAMED = {("", "Service")}
# Built-in kinds with a free-form name that only has to be a valid URL path segment.
PATH_NAMED = {("rbac.authorization.k8s.io", kind) for kind in ("ClusterRole", "ClusterRoleBinding", "Role",
                                                               "RoleBinding")}
# CronJob names leave room for the 11 characters of the Job name suffix within a DNS-1035 label.
CRONJOB_NAME_LIMIT = 52
ANNOTATIONS_SIZE_LIMIT = 256 * 1024  # bytes of all annotation keys and values together


def path_segment_errors(name: str) -> list[str]:
    """IsValidPathSegmentName."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def validate_name(group: str, kind: str, name: str, generate: bool = False) -> list[Cause]:
    """Causes for an invalid `metadata.name` of a `kind` of API `group` ("" for the core group)."""
    if not name:
        return [] if generate else [required("metadata.name", "name or generateName is required")]
    if (group, kind) in PATH_NAMED:
        errors = path_segment_errors(name)
    elif (group, kind) in LABEL_NAMED:
        errors = is_label(name)
    elif (group, kind) in DNS1035_NAMED:
        errors = dns_errors(name, DNS1035_LABEL, DNS1035_MSG, 63)
    else:
        errors = is_subdomain(name)
    causes = [invalid("metadata.name", name, message) for message in errors]
    if (group, kind) == ("batch", "CronJob") and len(name) > CRONJOB_NAME_LIMIT:
        causes.append(invalid("metadata.name", name, f"must be no more than {CRONJOB_NAME_LIMIT} characters"))
    return causes


def validate_labels(labels: Any, field: str) -> list[Cause]:
    """Label keys are qualified names, values valid label values."""
    causes: list[Cause] = []
    for key, value in (labels or {}).items():
        causes += [invalid(field, key, message) for message in qualified_name_errors(str(key))]
        causes += [invalid(field, value, message) for message in label_value_errors(str(value))]
    return causes


def validate_annotations(annotations: Any, field: str) -> list[Cause]:
    """Annotation keys are qualified names (checked lower-cased); the total size is bounded."""
    causes: list[Cause] = []
    total = 0
    for key, value in (annotations or {}).items():
        causes += [invalid(field, key, message) for message in qualified_name_errors(str(key).lower())]
        total += len(str(key)) + len(str(value))
    if total > ANNOTATIONS_SIZE_LIMIT:
        causes.append(
            {
                "reason": "FieldValueTooLong",
                "message": f"Too long: may not be more than {ANNOTATIONS_SIZE_LIMIT} bytes",
                "field": field,
            }
        )
    return causes


def validate_metadata(meta: Any, prefix: str = "metadata") -> list[Cause]:
    """Labels and annotations of an object or a template."""
    meta = meta or {}
    return validate_labels(meta.get("labels"), f"{prefix}.labels") + validate_annotations(
        meta.get("annotations"), f"{prefix}.annotations"
    )
