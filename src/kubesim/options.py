"""Query parameters and bodies of write requests, parsed and checked like kube-apiserver does.

dryRun, fieldValidation, fieldManager (defaulted from the User-Agent), force, DeleteOptions from
the body or the query, and request bodies in JSON, YAML (apply) or protobuf (a few kinds).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from kubesim import protobuf
from kubesim.errors import ApiError, bad_request, field_cause, invalid
from kubesim.http import Request
from kubesim.resources import WriteOptions
from kubesim.routes import Route
from kubesim.validation.common import forbidden, unsupported

Obj = dict[str, Any]
PATCH_TYPES = {
    "application/apply-patch+yaml": "apply",
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
}
FIELD_VALIDATION = ("Ignore", "Warn", "Strict")
DEFAULT_FIELD_VALIDATION = "Warn"  # what kube-apiserver assumes when the parameter is absent
MAX_MANAGER_LENGTH = 128
_YAML_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def manager_from_user_agent(user_agent: str) -> str:
    """The default fieldManager: the User-Agent up to its first `/` (`kubectl/v1.35.2 (…)` → `kubectl`)."""
    return user_agent.split("/", 1)[0][:MAX_MANAGER_LENGTH]


def _invalid_options(kind: str, cause: dict[str, Any]) -> ApiError:
    """422 for bad query options, named like the server's `CreateOptions.meta.k8s.io "" is invalid`."""
    return invalid(kind, "meta.k8s.io", "", [cause])


def _check_dry_run(kind: str, values: list[str]) -> bool:
    """Whether this is a dry run; any value but `All` is invalid."""
    if any(v != "All" for v in values):
        raise _invalid_options(kind, unsupported("dryRun", values, ("All",)))
    return bool(values)


def _options_kind(verb: str) -> str:
    return {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}.get(
        verb, "DeleteOptions"
    )


def decode_body(request: Request) -> Any:
    """A create/update body: JSON, or protobuf for the kinds `kubesim.protobuf` knows."""
    if request.headers.get("content-type", "").startswith(protobuf.MEDIA_TYPE):
        return protobuf.decode_object(request.body)
    return decode_json(request.body)


def decode_json(body: bytes) -> Any:
    """A JSON body (400 with the server's wording when it does not parse)."""
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from exc


def write_options(route: Route, request: Request, verb: str, apply: bool = False) -> WriteOptions:
    """dryRun, fieldValidation and fieldManager (from the User-Agent unless it is an apply)."""
    dry_run = _check_dry_run(
        _options_kind(verb), [request.query["dryRun"]] if "dryRun" in request.query else []
    )
    validation = request.query.get("fieldValidation", "")
    if validation and validation not in FIELD_VALIDATION:
        raise bad_request(f"fieldValidation parameter unsupported: {validation}")
    manager = request.query.get("fieldManager", "")
    if not manager and not apply:
        manager = manager_from_user_agent(request.headers.get("user-agent", ""))
    if len(manager) > MAX_MANAGER_LENGTH:
        raise _invalid_options(
            _options_kind(verb),
            field_cause(
                "FieldValueTooLong",
                "fieldManager",
                f"Too long: may not be more than {MAX_MANAGER_LENGTH} bytes",
            ),
        )
    return WriteOptions(
        manager=manager,
        dry_run=dry_run,
        field_validation=validation or DEFAULT_FIELD_VALIDATION,
        subresource=route.subresource,
        warnings=[],
    )


def check_force(request: Request, patch_type: str) -> None:
    """`force` is for apply patches only (422 otherwise, like ValidatePatchOptions)."""
    if "force" in request.query and patch_type != "apply":
        raise _invalid_options("PatchOptions", forbidden("force", "may not be specified for non-apply patch"))


def patch_body(request: Request) -> tuple[str, Any]:
    """The patch type named by Content-Type (415 for others) and the decoded patch."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    patch_type = PATCH_TYPES.get(content_type)
    if patch_type is None:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{', '.join(PATCH_TYPES)}",
        )
    if patch_type != "apply":
        return patch_type, decode_json(request.body)
    return patch_type, _decode_apply_body(request.body)


def _decode_apply_body(body: bytes) -> Any:
    """An apply patch: JSON (what kubectl and client libraries send) is read as JSON, as the server's
    YAML-to-JSON step would read it, anything else as YAML (400 when neither parses)."""
    try:
        text = body.decode("utf-8")
        if text.lstrip().startswith("{"):
            try:
                return json.loads(text)
            except ValueError:
                pass  # JSON-looking YAML (flow style with comments, say): the YAML parser decides
        return yaml.load(text or "null", Loader=_YAML_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise bad_request(f"error decoding YAML: {exc}") from exc


def delete_options(request: Request) -> tuple[Obj, bool]:
    """DeleteOptions from the query and/or the body, and whether it is a dry run."""
    options: Obj = {}
    for key in ("propagationPolicy", "gracePeriodSeconds", "orphanDependents"):
        if key in request.query:
            value = request.query[key]
            options[key] = value.lower() == "true" if key == "orphanDependents" else value
    body = decode_body(request) if request.body.strip() else None
    if isinstance(body, dict):
        options.update(body)
    dry_values = options.get("dryRun") or ([request.query["dryRun"]] if "dryRun" in request.query else [])
    return options, _check_dry_run("DeleteOptions", list(dry_values))


def int_param(request: Request, name: str) -> int:
    """An integer query parameter (0 when absent); 400 when it is not a number."""
    value = request.query.get(name, "")
    if not value:
        return 0
    try:
        return int(value)
    except ValueError as exc:
        raise bad_request(f'invalid value for {name}: "{value}"') from exc
