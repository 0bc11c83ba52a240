"""Discovery documents: /version, legacy /api and /apis, aggregated (apidiscovery.k8s.io/v2)."""

from __future__ import annotations

from typing import Any

from kubesim.registry import ALL_VERBS, Registry, ResourceType

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def version_info(kube_version: str) -> dict[str, str]:
    """The /version body."""
    major, minor, _ = kube_version.split(".")
    return {
        "major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
        "minCompatibilityMajor": major, "minCompatibilityMinor": str(int(minor) - 1),
        "gitVersion": f"v{kube_version}-kubesim", "gitCommit": "0" * 40, "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24.0", "compiler": "gc",
        "platform": "linux/amd64",
    }


def wants_aggregated(accept: str) -> str | None:
    """The aggregated discovery media type the Accept header asks for, if any (v2 preferred)."""
    accept = accept.replace(" ", "")
    if "as=APIGroupDiscoveryList" not in accept:
        return None
    if "v=v2;" in accept or accept.endswith("v=v2") or "v=v2," in accept:
        return AGGREGATED_V2
    if "v=v2beta1" in accept:
        return AGGREGATED_V2BETA1
    return None


def _legacy_resource(rtype: ResourceType) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {
        "name": rtype.plural, "singularName": rtype.singular, "namespaced": rtype.namespaced,
        "kind": rtype.kind, "verbs": ALL_VERBS,
    }
    if rtype.short_names:
        entry["shortNames"] = rtype.short_names
    if rtype.categories:
        entry["categories"] = rtype.categories
    entries = [entry]
    if rtype.has_status:
        entries.append({"name": f"{rtype.plural}/status", "singularName": "", "namespaced": rtype.namespaced,
                        "kind": rtype.kind, "verbs": ["get", "patch", "update"]})
    if rtype.has_scale:
        entries.append({"name": f"{rtype.plural}/scale", "singularName": "", "namespaced": rtype.namespaced,
                        "group": "autoscaling", "version": "v1", "kind": "Scale",
                        "verbs": ["get", "patch", "update"]})
    return entries


def resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    """Legacy APIResourceList for one group/version, or None when not served."""
    types = [t for t in registry.all() if t.group == group and t.version == version]
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rtype in types:
        resources += _legacy_resource(rtype)
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": resources}


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_versions(server_address: str) -> dict[str, Any]:
    """Legacy /api."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    """Legacy /apis."""
    groups = [_group(name, versions) for name, versions in registry.group_versions().items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, name: str) -> dict[str, Any] | None:
    """Legacy /apis/<group>."""
    versions = registry.group_versions().get(name)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _aggregated_resource(rtype: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": rtype.plural,
        "responseKind": {"group": rtype.group, "version": rtype.version, "kind": rtype.kind},
        "scope": rtype.scope, "singularResource": rtype.singular, "verbs": ALL_VERBS,
    }
    if rtype.short_names:
        entry["shortNames"] = rtype.short_names
    if rtype.categories:
        entry["categories"] = rtype.categories
    subresources = []
    if rtype.has_status:
        subresources.append({"subresource": "status", "responseKind": dict(entry["responseKind"]),
                             "verbs": ["get", "patch", "update"]})
    if rtype.has_scale:
        subresources.append({"subresource": "scale",
                             "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                             "verbs": ["get", "patch", "update"]})
    if subresources:
        entry["subresources"] = subresources
    return entry


def aggregated(registry: Registry, core: bool, media_type: str) -> dict[str, Any]:
    """Aggregated discovery for /api (core) or /apis (named groups)."""
    items = []
    for name, versions in registry.group_versions().items():
        if bool(name) == core:
            continue
        version_entries = []
        for version in versions:
            types = [t for t in registry.all() if t.group == name and t.version == version]
            version_entries.append({"version": version, "freshness": "Current",
                                    "resources": [_aggregated_resource(t) for t in types]})
        item: dict[str, Any] = {"metadata": {"name": name} if name else {}, "versions": version_entries}
        items.append(item)
    api_version = "apidiscovery.k8s.io/v2" if media_type == AGGREGATED_V2 else "apidiscovery.k8s.io/v2beta1"
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items}
