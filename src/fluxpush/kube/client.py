"""The kube client: server-side apply, get, list, delete, watch and merge patch over plain dicts.

One thin REST layer over the transport (no typed models): objects go out and
come back as the API's camelCase dicts. Thread-safe; one instance serves a whole run.
"""

from __future__ import annotations

import http.client
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from fluxpush.errors import ClusterError, InputError
from fluxpush.flux.model import DEFAULT_NAMESPACE, ObjectRef
from fluxpush.kube.connection import ClusterConnection
from fluxpush.kube.discovery import Discovery, ResourceInfo
from fluxpush.kube.http import Stream
from fluxpush.kube.retry import RetryPolicy
from fluxpush.kube.transport import Call, Transport
from fluxpush.sops.sealed import is_sealed, object_name

APPLY_PATCH = "application/apply-patch+yaml"  # JSON is valid YAML, so the body is sent as JSON
MERGE_PATCH = "application/merge-patch+json"
# kubectl pages every list by 500: big enough for few round trips, small enough for the server.
LIST_PAGE_SIZE = 500
CRD_KIND = ("apiextensions.k8s.io", "CustomResourceDefinition")
PROPAGATION_POLICIES = ("Background", "Foreground", "Orphan")


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One watch event: `ADDED`, `MODIFIED`, `DELETED` or `BOOKMARK`, and the object."""

    type: str
    object: dict[str, Any]


class KubeClient:
    """Talks to one cluster; `request_count` counts every HTTP request sent (retries included)."""

    def __init__(
        self,
        connection: ClusterConnection,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        page_size: int = LIST_PAGE_SIZE,
    ) -> None:
        self.connection = connection
        self.page_size = page_size
        self._transport = Transport(connection, retry=retry, sleep=sleep, rng=rng)
        self.discovery = Discovery(self._discovery_json)

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._transport.close()

    def impersonating(self, user: str) -> KubeClient:
        """A client for the same cluster and credentials whose every request acts as `user`
        (`Impersonate-User`); close it on its own."""
        return KubeClient(replace(self.connection, impersonate=user), page_size=self.page_size)

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, every retry included."""
        return self._transport.request_count

    def resource_for(self, api_version: str, kind: str) -> ResourceInfo:
        """The served resource for `apiVersion` + `kind` (from the per-run discovery cache)."""
        return self.discovery.resource_for(api_version, kind)

    def apply(
        self, obj: dict[str, Any], field_manager: str, *, force: bool = True, dry_run: bool = False
    ) -> dict[str, Any]:
        """Server-side apply `obj` as `field_manager`; returns the object the server answers with.

        An object still holding SOPS ciphertext or a SOPS mask is never written (dry runs are fine).
        """
        if not dry_run and is_sealed(obj):
            raise InputError("refusing to write SOPS-encrypted or masked values to the cluster",
                             obj=object_name(obj), hint="give the SOPS key so the values can be decrypted")
        info, namespace, name = self._locate(obj)
        query: list[tuple[str, str]] = [("fieldManager", field_manager)]
        if force:
            query.append(("force", "true"))
        if dry_run:
            query.append(("dryRun", "All"))
        ref = _ref(info, namespace, name)
        result = self._transport.json(
            Call("PATCH", info.path(namespace, name), query, obj, APPLY_PATCH, "apply", ref)
        )
        if (info.group, info.kind) == CRD_KIND and not dry_run:
            self.discovery.invalidate()
        return result

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """The live object, or None when it does not exist."""
        info = self.resource_for(api_version, kind)
        namespace = _namespace(info, namespace)
        try:
            return self._transport.json(
                Call("GET", info.path(namespace, name), verb="get", obj=_ref(info, namespace, name))
            )
        except ClusterError as exc:
            if exc.status == 404:
                return None
            raise

    def list(
        self, api_version: str, kind: str, namespace: str | None = None, *, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        """Every object of a type (in `namespace`, or all namespaces), paged; items carry apiVersion/kind."""
        info = self.resource_for(api_version, kind)
        base: list[tuple[str, str]] = [("limit", str(self.page_size))]
        if label_selector:
            base.append(("labelSelector", label_selector))
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            query = [*base, ("continue", token)] if token else base
            page = self._transport.json(
                Call(
                    "GET",
                    info.path(namespace),
                    query,
                    verb="list",
                    obj=f"{info.kind}/{namespace}" if namespace else info.kind,
                )
            )
            for item in page.get("items") or []:
                items.append({"apiVersion": info.api_version, "kind": info.kind, **item})
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                return items

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        propagation_policy: str = "Background",
        dry_run: bool = False,
    ) -> bool:
        """Delete an object; False when it was already gone."""
        if propagation_policy not in PROPAGATION_POLICIES:
            raise ValueError(f"propagation_policy must be one of {PROPAGATION_POLICIES}")
        info = self.resource_for(api_version, kind)
        namespace = _namespace(info, namespace)
        query: list[tuple[str, str]] = [("propagationPolicy", propagation_policy)]
        if dry_run:
            query.append(("dryRun", "All"))
        try:
            self._transport.json(
                Call(
                    "DELETE",
                    info.path(namespace, name),
                    query,
                    verb="delete",
                    obj=_ref(info, namespace, name),
                )
            )
        except ClusterError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def patch_merge(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: dict[str, Any],
        namespace: str | None = None,
        *,
        subresource: str = "",
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """A JSON merge patch (RFC 7386) of an object or its `status` subresource."""
        info = self.resource_for(api_version, kind)
        namespace = _namespace(info, namespace)
        query: list[tuple[str, str]] = [("fieldManager", field_manager)] if field_manager else []
        if dry_run:
            query.append(("dryRun", "All"))
        return self._transport.json(
            Call(
                "PATCH",
                info.path(namespace, name, subresource),
                query,
                patch,
                MERGE_PATCH,
                "patch",
                _ref(info, namespace, name),
            )
        )

    def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int = 60,
    ) -> Iterator[WatchEvent]:
        """Watch events until the server ends the watch after `timeout_seconds` (or the caller stops).

        An `ERROR` event (e.g. 410 Gone: the resourceVersion is too old) raises a `ClusterError`;
        the caller then lists again and watches from the new resourceVersion.
        """
        info = self.resource_for(api_version, kind)
        query: list[tuple[str, str]] = [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(timeout_seconds)),
        ]
        for key, value in (
            ("labelSelector", label_selector),
            ("fieldSelector", field_selector),
            ("resourceVersion", resource_version),
        ):
            if value:
                query.append((key, value))
        where = f"{info.kind}/{namespace}" if namespace else info.kind
        call = Call(
            "GET",
            info.path(namespace),
            query,
            verb="watch",
            obj=where,
            timeout=(10.0, timeout_seconds + 10.0),
            stream=True,
        )
        return self._stream_events(call)

    def _stream_events(self, call: Call) -> Iterator[WatchEvent]:
        stream = self._transport.send(call).stream
        assert stream is not None  # a streamed call's 2xx answer
        try:
            for line in _lines(stream):
                event = json.loads(line)
                if event.get("type") == "ERROR":
                    status = event.get("object") or {}
                    raise ClusterError(
                        str(status.get("message") or "watch failed"),
                        status=status.get("code"),
                        reason=status.get("reason"),
                        obj=call.obj,
                        hint="list again and watch from the new resourceVersion",
                    )
                yield WatchEvent(event["type"], event.get("object") or {})
        except (OSError, http.client.HTTPException) as exc:
            raise ClusterError(
                f"watch: the connection broke ({type(exc).__name__})",
                obj=call.obj,
                hint="list again and watch from the last resourceVersion",
            ) from exc
        finally:
            stream.close()  # a stream left half-read closes its connection; one read to its end is kept

    def _locate(self, obj: dict[str, Any]) -> tuple[ResourceInfo, str | None, str]:
        metadata = obj.get("metadata") or {}
        name = metadata.get("name") or ""
        if not obj.get("apiVersion") or not obj.get("kind") or not name:
            raise ClusterError(
                "an object needs apiVersion, kind and metadata.name to be applied",
                obj=f"{obj.get('kind', '?')}/{name or '?'}",
                is_user_error=True,
            )
        info = self.resource_for(obj["apiVersion"], obj["kind"])
        return info, _namespace(info, metadata.get("namespace")), name

    def _discovery_json(self, path: str) -> dict[str, Any] | None:
        try:
            return self._transport.json(Call("GET", path, verb="discovery", obj=path))
        except ClusterError as exc:
            if exc.status == 404:
                return None
            raise


def _namespace(info: ResourceInfo, namespace: str | None) -> str | None:
    """The namespace a request addresses: none for cluster-scoped types, `default` when omitted."""
    if not info.namespaced:
        return None
    return namespace or DEFAULT_NAMESPACE


def _ref(info: ResourceInfo, namespace: str | None, name: str) -> str:
    return str(ObjectRef(info.kind, namespace or "", name))


def _lines(stream: Stream) -> Iterator[bytes]:
    """Newline-separated JSON documents of a watch stream, as they arrive."""
    pending = b""
    for chunk in stream.chunks():
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line for line in complete if line.strip())
    if pending.strip():
        yield pending
