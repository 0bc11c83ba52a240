"""Turn an API server's error answer (a `Status` body) into a `ClusterError` that says what to do."""

from __future__ import annotations

import json
from typing import Any

from fluxpush.errors import Cause, ClusterError

# The server-side-apply quirk: a field the schema does not declare is answered with a 500, though
# it is the manifest's fault (kubernetes issues #122480 and #139253). Matched on the message.
UNDECLARED_FIELD_MARKER = "field not declared in schema"
FIELD_MANAGER_CONFLICT = "FieldManagerConflict"


def parse_status(body: bytes) -> dict[str, Any]:
    """The `Status` object in an error body, or {} when the body is not one."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("kind") == "Status" else {}


def status_causes(status: dict[str, Any]) -> list[Cause]:
    """`details.causes` as `Cause` values."""
    causes = (status.get("details") or {}).get("causes") or []
    return [
        Cause(str(c.get("reason", "")), str(c.get("field", "")), str(c.get("message", "")))
        for c in causes
        if isinstance(c, dict)
    ]


def is_undeclared_field(code: int, status: dict[str, Any]) -> bool:
    """Is this the 500 that really means 'your manifest has a field the schema does not know'?"""
    return code == 500 and UNDECLARED_FIELD_MARKER in str(status.get("message", ""))


def has_field_manager_conflicts(causes: list[Cause]) -> bool:
    """Did server-side apply refuse because another field manager owns the fields?"""
    return any(c.reason == FIELD_MANAGER_CONFLICT for c in causes)


def error_from_status(code: int, body: bytes, *, obj: str | None, verb: str) -> ClusterError:
    """The `ClusterError` for an answer with HTTP `code` to `verb` (apply, get, list, delete, …) on `obj`."""
    status = parse_status(body)
    reason = str(status.get("reason") or "") or None
    message = str(status.get("message") or "").strip() or f"{verb} failed"
    causes = status_causes(status)
    hint: str | None = None
    user_error = False
    if code == 401:
        message = f"{verb}: the API server did not accept the credentials ({message})"
        hint = (
            "for EKS, check the AWS identity is mapped by an access entry or aws-auth; "
            "otherwise refresh the kubeconfig's credentials"
        )
    elif code == 403:
        hint = "grant the deploying identity RBAC permission for this verb and resource"
    elif code == 404:
        hint = (
            "create the namespace first (or let an earlier Kustomization create it)"
            if (status.get("details") or {}).get("kind") == "namespaces"
            else None
        )
    elif code == 409 and has_field_manager_conflicts(causes):
        user_error = True
        hint = "another field manager owns these fields: apply with force, or remove them from the manifest"
    elif code == 409 and reason == "Conflict":
        message = f"resourceVersion conflict: {message}"
        hint = "the object changed while it was being written; re-read it and retry"
    elif code in (400, 422):
        user_error = True
        if causes and " is invalid: " in message:  # the server repeats every cause in its message
            message = message.split(": ", 1)[0]
        immutable = any("immutable" in c.message for c in causes) or "immutable" in message
        hint = (
            "the field is immutable: delete and re-create the object (Flux: spec.force: true)"
            if immutable
            else "fix the manifest"
        )
    elif is_undeclared_field(code, status):
        user_error = True
        message = f"the manifest has a field the API schema does not declare: {message}"
        hint = "remove the field, or check the apiVersion and the CRD's schema"
    return ClusterError(
        message, status=code, reason=reason, obj=obj, causes=causes, hint=hint, is_user_error=user_error
    )
