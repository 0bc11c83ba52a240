"""Request handlers: query parameters in, `Resources`/`Deleter`/watch/discovery/OpenAPI calls, JSON out.

`Api.handle` takes a transport-neutral `Request` and returns a `Response`; every failure becomes a
`Status` body with the real server's code and wording. No sockets here (see `server.py`).
"""

from __future__ import annotations

import threading
from typing import Any

from kubesim import discovery
from kubesim.cluster import Cluster
from kubesim.deletion import Deleter
from kubesim.errors import (
    ApiError,
    bad_request,
    expired,
    method_not_allowed,
    page_not_found,
)
from kubesim.http import Request, Response
from kubesim.openapi import OpenAPI
from kubesim.options import check_force, decode_body, delete_options, int_param, patch_body, write_options
from kubesim.paging import decode_continue, encode_continue, position
from kubesim.resources import Resources
from kubesim.routes import Route, match
from kubesim.scale import patched_scale, scale_of
from kubesim.selectors import parse_field_selector, parse_label_selector
from kubesim.tables import to_table, wants_table
from kubesim.watch import watch_stream

Obj = dict[str, Any]


def error_response(error: ApiError) -> Response:
    """The Status response for an error, with its headers (Retry-After, …)."""
    return Response.json(error.to_status(), error.code, headers=error.headers)


WATCH_TIMEOUT = 1800.0  # seconds; kube-apiserver's --min-request-timeout default


class Api:
    """Serves one `Cluster` over the Kubernetes REST conventions."""

    def __init__(self, cluster: Cluster, server_address: str = "127.0.0.1:6443") -> None:
        self.cluster = cluster
        self.server_address = server_address
        self.resources = Resources(cluster)
        self.deleter = Deleter(cluster)
        self.openapi = OpenAPI(cluster.registry)
        self.stopping = threading.Event()  # set at shutdown; ends open watches

    # ---- entry points ----------------------------------------------------------------------
    def verb(self, request: Request) -> str:
        """The verb as Kubernetes names it (get, list, watch, create, update, patch, delete, …)."""
        try:
            route = match(self.cluster.registry, request.path)
        except ApiError:
            return request.method.lower()
        return self._verb(route, request)

    def _verb(self, route: Route, request: Request) -> str:
        method = request.method
        if route.kind != "resource":
            return method.lower()
        if method == "GET":
            if route.name:
                return "get"
            return "watch" if request.flag("watch") else "list"
        if method == "DELETE":
            return "delete" if route.name else "deletecollection"
        return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())

    def handle(self, request: Request) -> Response:
        """Answer one request; errors become Status bodies."""
        try:
            route = match(self.cluster.registry, request.path)
            if route.kind == "resource":
                return self._resource(route, request)
            if request.method not in ("GET", "HEAD"):
                raise method_not_allowed()
            if route.kind == "discovery":
                return self._discovery(route, request)
            if route.kind == "openapi":
                return self._openapi(request.path)
            return self._meta(request.path)
        except ApiError as error:
            return error_response(error)

    # ---- non-resource paths ----------------------------------------------------------------
    def _meta(self, path: str) -> Response:
        if path == "/version":
            return Response.json(discovery.version_info(self.cluster.options.kube_version))
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if path == "/":
            return Response.json(
                {
                    "paths": [
                        "/api",
                        "/api/v1",
                        "/apis",
                        "/healthz",
                        "/livez",
                        "/openapi/v3",
                        "/readyz",
                        "/version",
                    ]
                }
            )
        raise page_not_found()

    def _discovery(self, route: Route, request: Request) -> Response:
        registry = self.cluster.registry
        parts = [p for p in route.path.split("/") if p]
        if len(parts) == 1:
            media = discovery.wants_aggregated(request.headers.get("accept", ""))
            if media is not None:
                return Response.json(
                    discovery.aggregated(registry, parts[0] == "api", media), content_type=media
                )
            if parts[0] == "api":
                return Response.json(discovery.api_versions(self.server_address))
            return Response.json(discovery.api_group_list(registry))
        if parts[0] == "apis" and len(parts) == 2:
            group = discovery.api_group(registry, route.group)
            if group is None:
                raise page_not_found()
            return Response.json(group)
        resources = discovery.resource_list(registry, route.group, route.version)
        if resources is None:
            raise page_not_found()
        return Response.json(resources)

    def _openapi(self, path: str) -> Response:
        if path.rstrip("/") == "/openapi/v3":
            return Response.json(self.openapi.root())
        prefix = "/openapi/v3/"
        if path.startswith(prefix):
            document = self.openapi.document(path[len(prefix) :])
            if document is not None:
                return Response(200, document[1], "application/json", {"Etag": f'"{document[0]}"'})
        raise page_not_found()

    # ---- resources -------------------------------------------------------------------------
    def _resource(self, route: Route, request: Request) -> Response:
        verb = self._verb(route, request)
        if route.subresource == "scale" and verb in ("get", "update", "patch"):
            return self._scale(route, request, verb)
        if route.subresource == "finalize":
            raise method_not_allowed()
        if verb == "get":
            return self._get(route, request)
        if verb == "list":
            return self._list(route, request)
        if verb == "watch":
            return self._watch(route, request)
        if verb in ("create", "update", "patch") and route.rtype is not None:
            return self._write(route, request, verb)
        if verb == "delete":
            return self._delete(route, request)
        if verb == "deletecollection" and not route.subresource:
            return self._delete_collection(route, request)
        raise method_not_allowed()

    def _shaped(self, route: Route, obj: Obj) -> Obj:
        assert route.rtype is not None
        return {
            "apiVersion": route.rtype.api_version,
            "kind": route.rtype.kind,
            **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")},
        }

    def _render(
        self, route: Route, request: Request, obj: Obj, code: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        if obj.get("kind") == "Status":
            return Response.json(obj, code, headers=headers)
        if wants_table(request.headers.get("accept", "")):
            list_meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
            return Response.json(to_table([obj], list_meta), code, headers=headers)
        return Response.json(self._shaped(route, obj), code, headers=headers)

    def _get(self, route: Route, request: Request) -> Response:
        assert route.rtype is not None
        obj = self.resources.get(route.rtype, route.namespace or "", route.name)
        return self._render(route, request, obj)

    def _matcher(self, route: Route, request: Request) -> Any:
        assert route.rtype is not None
        labels = parse_label_selector(request.query.get("labelSelector"))
        fields = parse_field_selector(request.query.get("fieldSelector"), route.rtype.plural)
        return lambda obj: labels(obj) and fields(obj)

    def _list(self, route: Route, request: Request) -> Response:
        assert route.rtype is not None
        rtype = route.rtype
        matches = self._matcher(route, request)
        items, list_rv = self.cluster.store.list(rtype.group, rtype.plural, route.namespace)
        items = [self._shaped(route, o) for o in items if matches(o)]
        start, token_rv = decode_continue(request.query.get("continue", ""))
        if token_rv is not None:
            if token_rv < self.cluster.store.oldest_watchable:
                raise expired(
                    "The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter, or use "
                    "the continue token in this response to retrieve the remainder of the "
                    "results. Continuing with the provided token results in an inconsistent "
                    "list - objects that were created, modified, or deleted between the time "
                    "the first chunk was returned and now may show up in the list."
                )
            list_rv = token_rv
            items = [o for o in items if position(o) > start]
        meta: Obj = {"resourceVersion": str(list_rv)}
        limit = int_param(request, "limit")
        if limit and len(items) > limit:
            meta["continue"] = encode_continue(position(items[limit - 1]), list_rv)
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        if wants_table(request.headers.get("accept", "")):
            return Response.json(to_table(items, meta))
        return Response.json(
            {"kind": f"{rtype.kind}List", "apiVersion": rtype.api_version, "metadata": meta, "items": items}
        )

    def _watch(self, route: Route, request: Request) -> Response:
        assert route.rtype is not None
        matches = self._matcher(route, request)
        timeout = int_param(request, "timeoutSeconds")
        stream = watch_stream(
            self.cluster,
            route.rtype,
            route.namespace,
            matches,
            request.query.get("resourceVersion", ""),
            float(timeout) if timeout else WATCH_TIMEOUT,
            request.flag("allowWatchBookmarks"),
            request.flag("sendInitialEvents"),
            self.stopping,
        )
        return Response(200, content_type="application/json", stream=stream)

    def _write(self, route: Route, request: Request, verb: str) -> Response:
        rtype = route.rtype
        assert rtype is not None
        namespace = route.namespace or ""
        if (rtype.namespaced and route.namespace is None) or (verb == "create") == bool(route.name):
            raise method_not_allowed()
        if verb == "create":
            opts = write_options(route, request, verb)
            result = self.resources.create(rtype, namespace, decode_body(request), opts)
            code = 201
        elif verb == "update":
            opts = write_options(route, request, verb)
            result = self.resources.update(rtype, namespace, route.name, decode_body(request), opts)
            code = 200
        else:
            patch_type, body = patch_body(request)
            check_force(request, patch_type)
            opts = write_options(route, request, verb, apply=patch_type == "apply")
            result, created = self.resources.patch(
                rtype, namespace, route.name, patch_type, body, opts, request.flag("force")
            )
            code = 201 if created else 200
        headers = {"Warning": ", ".join(_warning(w) for w in opts.warnings)} if opts.warnings else None
        return self._render(route, request, result, code, headers)

    def _delete(self, route: Route, request: Request) -> Response:
        assert route.rtype is not None
        options, dry_run = delete_options(request)
        code, body = self.deleter.delete(route.rtype, route.namespace or "", route.name, options, dry_run)
        return self._render(route, request, body, code)

    def _delete_collection(self, route: Route, request: Request) -> Response:
        rtype = route.rtype
        assert rtype is not None
        options, dry_run = delete_options(request)
        matches = self._matcher(route, request)
        items, _ = self.cluster.store.list(rtype.group, rtype.plural, route.namespace)
        deleted = []
        for obj in items:
            if not matches(obj):
                continue
            meta = obj["metadata"]
            try:
                self.deleter.delete(rtype, meta.get("namespace", ""), meta["name"], options, dry_run)
            except ApiError as error:
                if error.code != 404:  # deleted meanwhile: the real server skips those too
                    raise
            deleted.append(self._shaped(route, obj))
        return Response.json(
            {
                "kind": f"{rtype.kind}List",
                "apiVersion": rtype.api_version,
                "metadata": {"resourceVersion": str(self.cluster.store.resource_version)},
                "items": deleted,
            }
        )

    def _scale(self, route: Route, request: Request, verb: str) -> Response:
        rtype = route.rtype
        assert rtype is not None
        namespace = route.namespace or ""
        current = self.resources.get(rtype, namespace, route.name)
        if verb != "get":
            opts = write_options(route, request, verb)
            opts.subresource = ""
            if verb == "update":
                wanted = decode_body(request)
            else:
                patch_type, body = patch_body(request)
                wanted = patched_scale(scale_of(current), patch_type, body)
            replicas = ((wanted or {}).get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise bad_request("spec.replicas: Invalid value: must be a non-negative integer")
            current, _ = self.resources.patch(
                rtype, namespace, route.name, "merge", {"spec": {"replicas": replicas}}, opts
            )
        return Response.json(scale_of(current))


def _warning(text: str) -> str:
    """One RFC 7234 warning value, code 299 like kube-apiserver's (text as a quoted-string)."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{quoted}"'
