"""API discovery: which resource (plural, scope) serves an `apiVersion` + `kind`, cached per run.

Uses legacy discovery (`/api`, `/apis`, then one `/api/v1` or `/apis/<group>/<version>` per
group-version, fetched on first use). A lookup that misses refreshes once before it gives up, so
kinds from CRDs applied during the run are found; `invalidate()` drops everything on demand.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fluxpush.errors import NotServed

GetJSON = Callable[[str], dict[str, Any] | None]  # GET a discovery path; None when it is not served


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """One served resource type."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        """`apps/v1`, or `v1` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str = "", subresource: str = "") -> str:
        """The URL path of the collection (`name` empty) or of one object, in `namespace` if namespaced."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        parts = [base, self.plural, name, subresource]
        return "/".join(p for p in parts if p)


def group_version_path(api_version: str) -> str:
    """The discovery path of one group-version: `/api/v1`, `/apis/apps/v1`."""
    return f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"


class ApiResources:
    """A per-run, thread-safe cache of the API server's resource types."""

    def __init__(self, get_json: GetJSON) -> None:
        self._get_json = get_json
        self._lock = threading.Lock()
        self._served: set[str] | None = None  # group-versions the server lists
        self._kinds: dict[str, dict[str, ResourceInfo]] = {}  # group-version -> kind -> info

    def invalidate(self) -> None:
        """Forget everything; the next lookup asks the server again (call after applying CRDs)."""
        with self._lock:
            self._served = None
            self._kinds.clear()

    def api_versions(self) -> list[str]:
        """Every served group-version (`v1`, `apps/v1`, …), sorted: helm's `--api-versions`."""
        with self._lock:
            if self._served is None:
                self._served = self._fetch_served()
            return sorted(self._served)

    def server_version(self) -> str:
        """The API server's `gitVersion` (`v1.35.2`), from `/version`; empty when not served."""
        return str((self._get_json("/version") or {}).get("gitVersion", ""))

    def resource_for(self, api_version: str, kind: str) -> ResourceInfo:
        """The resource serving `kind` in `api_version`; refreshes once on a miss, then raises."""
        with self._lock:
            found = self._lookup(api_version, kind)
            if found is None:
                self._served = None
                self._kinds.pop(api_version, None)
                found = self._lookup(api_version, kind)
        if found is None:
            raise NotServed(
                f'no matches for kind "{kind}" in version "{api_version}"',
                hint="install the CustomResourceDefinition first (a Kustomization this one dependsOn), "
                "or check the apiVersion",
                is_user_error=True,
            )
        return found

    def _lookup(self, api_version: str, kind: str) -> ResourceInfo | None:
        if self._served is None:
            self._served = self._fetch_served()
        if api_version not in self._served:
            return None
        if api_version not in self._kinds:
            self._kinds[api_version] = self._fetch_kinds(api_version)
        return self._kinds[api_version].get(kind)

    def _fetch_served(self) -> set[str]:
        core = self._get_json("/api") or {}
        groups = self._get_json("/apis") or {}
        served = set(core.get("versions") or [])
        for group in groups.get("groups") or []:
            served.update(v["groupVersion"] for v in group.get("versions") or [])
        return served

    def _fetch_kinds(self, api_version: str) -> dict[str, ResourceInfo]:
        listing = self._get_json(group_version_path(api_version)) or {}
        group, _, version = api_version.rpartition("/")
        kinds: dict[str, ResourceInfo] = {}
        for entry in listing.get("resources") or []:
            if "/" in entry["name"]:  # a subresource such as deployments/status
                continue
            kinds[entry["kind"]] = ResourceInfo(
                group, version, entry["kind"], entry["name"], bool(entry.get("namespaced"))
            )
        return kinds
