"""URL patterns: turn a request path into what it addresses (discovery, OpenAPI or a resource)."""

from __future__ import annotations

from dataclasses import dataclass

from kubesim.errors import ApiError, page_not_found
from kubesim.registry import Registry, ResourceType

NAMESPACE_SUBRESOURCES = {"status", "finalize"}


@dataclass(frozen=True, slots=True)
class Route:
    """What a URL names. `kind` is `discovery`, `openapi`, `meta` or `resource`."""

    kind: str
    path: str
    rtype: ResourceType | None = None
    namespace: str | None = None  # None: all namespaces (or cluster-scoped)
    name: str = ""
    subresource: str = ""
    group: str = ""
    version: str = ""


def _not_served(group: str, version: str, resource: str) -> ApiError:
    return page_not_found()


def match(registry: Registry, path: str) -> Route:
    """Resolve a request path; 404 (as a Status) when nothing is served there."""
    parts = [p for p in path.split("/") if p]
    if not parts or path in ("/version", "/healthz", "/livez", "/readyz"):
        return Route("meta", path)
    if parts[0] == "openapi":
        return Route("openapi", path)
    located = _group_version(parts, path)
    if isinstance(located, Route):
        return located
    group, version, rest = located
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in NAMESPACE_SUBRESOURCES:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        raise page_not_found()
    rtype = registry.get(group, version, rest[0])
    if rtype is None:
        raise _not_served(group, version, rest[0])
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if not _serves_subresource(rtype, subresource) or not _scope_fits(rtype, namespace, name):
        raise page_not_found()
    return Route("resource", path, rtype, namespace, name, subresource, group, version)


def _group_version(parts: list[str], path: str) -> Route | tuple[str, str, list[str]]:
    """A discovery route for `/api[/v1]` and `/apis[/g[/v]]`, else (group, version, the rest)."""
    if parts[0] == "api":
        if len(parts) <= 2:
            return Route("discovery", path, group="", version=parts[1] if len(parts) == 2 else "")
        return "", parts[1], parts[2:]
    if parts[0] == "apis":
        if len(parts) <= 3:
            return Route("discovery", path, group=parts[1] if len(parts) > 1 else "",
                         version=parts[2] if len(parts) > 2 else "")
        return parts[1], parts[2], parts[3:]
    raise page_not_found()


def _serves_subresource(rtype: ResourceType, subresource: str) -> bool:
    return (not subresource
            or (subresource == "status" and rtype.has_status)
            or (subresource == "scale" and rtype.has_scale)
            or (subresource == "finalize" and rtype.plural == "namespaces"))


def _scope_fits(rtype: ResourceType, namespace: str | None, name: str) -> bool:
    """A cluster-scoped type has no namespace in its path; a namespaced object has one."""
    if not rtype.namespaced:
        return namespace is None
    return not name or namespace is not None
