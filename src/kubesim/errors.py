"""API errors rendered as `Status` bodies, worded like kube-apiserver's.

Every failure inside kubesim is an `ApiError`; the HTTP layer turns it into a `Status` JSON body
with the same code. The helpers below build the common ones with the real server's messages.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A failed request: HTTP code, `Status.reason`, message and optional details."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def to_status(self) -> dict[str, Any]:
        """The `Status` body the API server would send."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def qualified(resource: str, group: str) -> str:
    """`deployments.apps`, or `configmaps` for the core group (how messages name a resource)."""
    return f"{resource}.{group}" if group else resource


def qualified_kind(kind: str, group: str) -> str:
    """`Deployment.apps`, or `ConfigMap` for the core group."""
    return f"{kind}.{group}" if group else kind


def _details(name: str, group: str, kind: str, causes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = kind
    if causes:
        details["causes"] = causes
    return details


def not_found(resource: str, group: str, name: str) -> ApiError:
    """404 for a missing object: `configmaps "x" not found`."""
    return ApiError(
        404, "NotFound", f'{qualified(resource, group)} "{name}" not found', _details(name, group, resource)
    )


def already_exists(resource: str, group: str, name: str) -> ApiError:
    """409 for a POST of an existing name."""
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified(resource, group)} "{name}" already exists',
        _details(name, group, resource),
    )


def conflict_modified(resource: str, group: str, name: str) -> ApiError:
    """409 for a stale resourceVersion precondition."""
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        _details(name, group, resource),
    )


def bad_request(message: str) -> ApiError:
    """400 BadRequest with a plain message."""
    return ApiError(400, "BadRequest", message)


def method_not_allowed() -> ApiError:
    """405 for a verb a resource does not support."""
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def page_not_found() -> ApiError:
    """404 for an unknown URL (not an unknown object)."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def unsupported_media_type(content_type: str) -> ApiError:
    """415 for a patch or body content type the server does not accept."""
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
        f'application/strategic-merge-patch+json (got "{content_type}")',
    )


def unauthorized() -> ApiError:
    """401 for a missing, wrong or expired bearer token."""
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden_terminating(resource: str, group: str, name: str, namespace: str) -> ApiError:
    """403 for a create inside a namespace that is being deleted."""
    return ApiError(
        403,
        "Forbidden",
        f'{qualified(resource, group)} "{name}" is forbidden: unable to create new content in namespace '
        f"{namespace} because it is being terminated",
        _details(
            name,
            group,
            resource,
            [
                {
                    "reason": "NamespaceTerminating",
                    "message": f"namespace {namespace} is being terminated",
                    "field": "metadata.namespace",
                }
            ],
        ),
    )


def invalid(kind: str, group: str, name: str, causes: list[dict[str, Any]]) -> ApiError:
    """422 Invalid built from `causes` of {reason, message, field}, like field.ErrorList."""
    parts = []
    for cause in causes:
        field = cause.get("field", "")
        parts.append(f"{field}: {cause['message']}" if field else cause["message"])
    joined = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return ApiError(
        422,
        "Invalid",
        f'{qualified_kind(kind, group)} "{name}" is invalid: {joined}',
        _details(name, group, kind, causes),
    )


def field_cause(reason: str, field: str, message: str) -> dict[str, Any]:
    """One `StatusCause`: FieldValueRequired, FieldValueInvalid, FieldValueForbidden, …"""
    return {"reason": reason, "message": message, "field": field}


def expired(message: str = "too old resource version") -> ApiError:
    """410 Expired for a resourceVersion that fell out of the watch window."""
    return ApiError(410, "Expired", message)


def internal_error(message: str) -> ApiError:
    """500 InternalError, e.g. the SSA `field not declared in schema` quirk."""
    return ApiError(500, "InternalError", message, {"causes": [{"message": message}]})
