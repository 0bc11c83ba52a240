"""The kube client: server-side apply, get, list, delete and merge patch over plain dicts.

One thin REST layer over the transport (no typed models): objects go out and
come back as the API's camelCase dicts. Thread-safe; one instance serves a whole run.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from fluxpush.errors import ClusterError, InputError, NotFound, NotServed
from fluxpush.flux.model import DEFAULT_NAMESPACE, ObjectRef
from fluxpush.kube.connection import ClusterConnection
from fluxpush.kube.discovery import ApiResources, ResourceInfo
from fluxpush.kube.retry import RetryPolicy
from fluxpush.kube.stop import StopSwitch
from fluxpush.kube.transport import Call, Transport
from fluxpush.sops.sealed import is_sealed, object_name

APPLY_PATCH = "application/apply-patch+yaml"  # JSON is valid YAML, so the body is sent as JSON
MERGE_PATCH = "application/merge-patch+json"
# kubectl pages every list by 500: big enough for few round trips, small enough for the server.
LIST_PAGE_SIZE = 500
CRD_KIND = ("apiextensions.k8s.io", "CustomResourceDefinition")
PROPAGATION_POLICIES = ("Background", "Foreground", "Orphan")


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
        stop: StopSwitch | None = None,
    ) -> None:
        self.connection = connection
        self.page_size = page_size
        self.stop = stop or StopSwitch()  # once thrown, new writes are refused (see `kube.stop`)
        self._bookkeeping = threading.local()
        self._transport = Transport(connection, retry=retry, sleep=sleep, rng=rng)
        self.api_resources = ApiResources(self._discovery_json)

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._transport.close()

    def impersonating(self, user: str) -> KubeClient:
        """A client for the same cluster and credentials whose every request acts as `user`
        (`Impersonate-User`), stopped with this one (shared `stop`); close it on its own."""
        return KubeClient(replace(self.connection, impersonate=user), page_size=self.page_size,
                          stop=self.stop)

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, every retry included."""
        return self._transport.request_count

    @contextmanager
    def bookkeeping(self) -> Iterator[None]:
        """Writes of fluxpush's own records (inventories, the Lease) in this thread: allowed after a stop."""
        self._bookkeeping.active = True
        try:
            yield
        finally:
            self._bookkeeping.active = False

    def _check_write(self, what: str, dry_run: bool) -> None:
        """Refuse a write once the run is stopped, unless it is a dry run or bookkeeping."""
        if self.stop.stopped and not dry_run and not getattr(self._bookkeeping, "active", False):
            raise self.stop.refusal(what)

    def resource_for(self, api_version: str, kind: str) -> ResourceInfo:
        """The served resource for `apiVersion` + `kind` (from the per-run discovery cache)."""
        return self.api_resources.resource_for(api_version, kind)

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
        self._check_write(ref, dry_run)
        result = self._transport.json(
            Call("PATCH", info.path(namespace, name), query, obj, APPLY_PATCH, "apply", ref)
        )
        if (info.group, info.kind) == CRD_KIND and not dry_run:
            self.api_resources.invalidate()
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
        except NotFound:
            return None

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
        self._check_write(_ref(info, namespace, name), dry_run)
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
        except NotFound:
            return False
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
        self._check_write(_ref(info, namespace, name), dry_run)
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

    def _locate(self, obj: dict[str, Any]) -> tuple[ResourceInfo, str | None, str]:
        metadata = obj.get("metadata") or {}
        name = metadata.get("name") or ""
        if not obj.get("apiVersion") or not obj.get("kind") or not name:
            raise ClusterError(
                "an object needs apiVersion, kind and metadata.name to be applied",
                obj=f"{obj.get('kind', '?')}/{name or '?'}",
                is_user_error=True,
            )
        try:
            info = self.resource_for(obj["apiVersion"], obj["kind"])
        except NotServed as exc:  # name the object: a node may hold many of an unserved kind
            raise NotServed(exc.message, obj=object_name(obj), hint=exc.hint, is_user_error=True) from exc
        return info, _namespace(info, metadata.get("namespace")), name

    def _discovery_json(self, path: str) -> dict[str, Any] | None:
        try:
            return self._transport.json(Call("GET", path, verb="discovery", obj=path))
        except NotFound:
            return None


def _namespace(info: ResourceInfo, namespace: str | None) -> str | None:
    """The namespace a request addresses: none for cluster-scoped types, `default` when omitted."""
    if not info.namespaced:
        return None
    return namespace or DEFAULT_NAMESPACE


def _ref(info: ResourceInfo, namespace: str | None, name: str) -> str:
    return str(ObjectRef(info.kind, namespace or "", name))
