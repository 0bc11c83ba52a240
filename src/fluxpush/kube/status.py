"""Turn an API server's error answer (a `Status` body) into a `ClusterError` that says what to do."""

from __future__ import annotations

import json
from typing import Any

from fluxpush.errors import Cause, ClusterError, Conflict, Forbidden, Invalid, NotFound

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
    """The `ClusterError` for an answer with HTTP `code` to `verb` (apply, get, list, delete, …) on `obj`:
    `NotFound`, `Conflict`, `Invalid`, `Forbidden`, or a plain `ClusterError` for other codes."""
    status = parse_status(body)
    reason = str(status.get("reason") or "") or None
    message = str(status.get("message") or "").strip() or f"{verb} failed"
    causes = status_causes(status)
    common: dict[str, Any] = {"status": code, "reason": reason, "obj": obj, "causes": causes}
    if code == 401:
        return ClusterError(f"{verb}: the API server did not accept the credentials ({message})", **common,
                            hint="for EKS, check the AWS identity is mapped by an access entry or aws-auth; "
                                 "otherwise refresh the kubeconfig's credentials")
    if code == 403:
        return Forbidden(message, **common,
                         hint="grant the deploying identity RBAC permission for this verb and resource")
    if code == 404:
        missing = (status.get("details") or {}).get("kind")
        hint = "create the namespace first (or let an earlier Kustomization create it)" \
            if missing == "namespaces" else None
        return NotFound(message, missing=str(missing) if missing else None, hint=hint, **common)
    if code == 409:
        return _conflict(message, causes, common)
    if code in (400, 422):
        return _invalid(message, causes, common)
    if is_undeclared_field(code, status):
        return Invalid(f"the manifest has a field the API schema does not declare: {message}", **common,
                       hint="remove the field, or check the apiVersion and the CRD's schema",
                       is_user_error=True)
    return ClusterError(message, **common)


def _conflict(message: str, causes: list[Cause], common: dict[str, Any]) -> ClusterError:
    if has_field_manager_conflicts(causes):
        return Conflict(message, **common, is_user_error=True,
                        hint="another field manager owns these fields: apply with force, or remove them "
                             "from the manifest")
    if common["reason"] == "Conflict":
        return Conflict(f"resourceVersion conflict: {message}", **common,
                        hint="the object changed while it was being written; re-read it and retry")
    return Conflict(message, **common)


def _invalid(message: str, causes: list[Cause], common: dict[str, Any]) -> Invalid:
    if causes and " is invalid: " in message:  # the server repeats every cause in its message
        message = message.split(": ", 1)[0]
    # The API server has no reason code for an immutable field: its wording is the only sign (Flux's
    # ssa package matches it too), so it is read here, once, into `Invalid.immutable`.
    immutable = any("immutable" in c.message for c in causes) or "immutable" in message
    hint = "the field is immutable: delete and re-create the object (Flux: spec.force: true)" \
        if immutable else "fix the manifest"
    return Invalid(message, immutable=immutable, hint=hint, is_user_error=True, **common)
