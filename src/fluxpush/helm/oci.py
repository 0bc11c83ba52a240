"""Helm charts from OCI registries (HelmRepository `type: oci`, and `chartRef` to an OCIRepository).

Speaks the registry's HTTP API (distribution spec v2, through `fluxpush.registry`): the tags list for semver
resolution (helm writes a version's `+` as `_` in tags), the manifest, then the chart layer
(`application/vnd.cncf.helm.chart.content.v1.tar+gzip`), checked against its digest and stored in
the same content-addressed cache as HTTP charts. Credentials: `username`/`password` or a
`.dockerconfigjson` Secret, sent as basic auth or exchanged for a bearer token when the registry
answers with a `Bearer` challenge. `insecure: true` talks plain HTTP.
"""

from __future__ import annotations

import hashlib
import json

from fluxpush.errors import EndpointError, SourceError
from fluxpush.helm.semver import newest_match
from fluxpush.registry import Location, Registry, credentials_from_secret, problem_of

__all__ = ["OciLocation", "Registry", "credentials_from_secret", "pull_chart", "resolve_tag"]

CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json"


class OciLocation(Location):
    """`oci://host/path/name` split into the registry base URL and the repository name."""

    @classmethod
    def parse(cls, url: str, insecure: bool) -> OciLocation:
        if not url.startswith("oci://"):
            raise SourceError(f"{url!r} is not an oci:// URL")
        host, _, path = url.removeprefix("oci://").strip("/").partition("/")
        return cls(f"{'http' if insecure else 'https'}://{host}", path)


def resolve_tag(registry: Registry, constraint: str | None) -> str:
    """The tag of the newest version matching `constraint` (semver over the registry's tags)."""
    tags = registry.tags()
    versions = {tag.replace("_", "+"): tag for tag in tags}
    version = newest_match(constraint, versions)
    if version is None:
        raise SourceError(f"oci://{registry.location.name}: no tag matches '{constraint or '*'}' "
                          f"(tags: {', '.join(sorted(tags)[:10]) or 'none'})")
    return str(versions[version])


def pull_chart(registry: Registry, reference: str) -> tuple[bytes, str]:
    """The chart archive at tag or digest `reference`, and its (verified) sha256 digest."""
    where = f"oci://{registry.location.name}:{reference}"
    try:
        manifest = json.loads(registry.get(f"manifests/{reference}", MANIFEST_TYPES))
        layers = manifest.get("layers") or []
        layer = next((item for item in layers if item.get("mediaType") == CHART_LAYER), None)
        if layer is None:
            raise SourceError(f"{where} is not a Helm chart (no {CHART_LAYER} layer)")
        data = registry.get(f"blobs/{layer['digest']}")
    except (EndpointError, ValueError) as exc:
        raise SourceError(f"{where} cannot be fetched: {problem_of(exc)}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if f"sha256:{digest}" != layer["digest"]:
        raise SourceError(f"{where}: the chart layer does not match its digest {layer['digest']}")
    return data, digest
