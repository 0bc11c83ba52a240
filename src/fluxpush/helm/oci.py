"""Helm charts from OCI registries (HelmRepository `type: oci`, and `chartRef` to an OCIRepository).

Speaks the registry's HTTP API directly (distribution spec v2): the tags list for semver
resolution (helm writes a version's `+` as `_` in tags), the manifest, then the chart layer
(`application/vnd.cncf.helm.chart.content.v1.tar+gzip`), checked against its digest and stored in
the same content-addressed cache as HTTP charts. Credentials: `username`/`password` or a
`.dockerconfigjson` Secret, sent as basic auth or exchanged for a bearer token when the registry
answers with a `Bearer` challenge. `insecure: true` talks plain HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from fluxpush.errors import SourceError
from fluxpush.helm.semver import newest_match

CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json"
FETCH_TIMEOUT = 60.0  # seconds, as for HTTP chart repositories
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True, slots=True)
class OciLocation:
    """`oci://host/path/name` split into the registry base URL and the repository name."""

    base: str
    name: str

    @classmethod
    def parse(cls, url: str, insecure: bool) -> OciLocation:
        if not url.startswith("oci://"):
            raise SourceError(f"{url!r} is not an oci:// URL")
        host, _, path = url.removeprefix("oci://").strip("/").partition("/")
        return cls(f"{'http' if insecure else 'https'}://{host}", path)


def credentials_from_secret(secret: dict[str, Any] | None, host: str) -> str | None:
    """`user:password` from a username/password or a dockerconfigjson Secret, or None."""
    if secret is None:
        return None
    data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    data.update({k: str(v) for k, v in (secret.get("stringData") or {}).items()})
    if "username" in data and "password" in data:
        return f"{data['username']}:{data['password']}"
    config = json.loads(data.get(".dockerconfigjson") or "{}")
    entry = (config.get("auths") or {}).get(host) or {}
    if entry.get("auth"):
        return base64.b64decode(entry["auth"]).decode()
    if entry.get("username"):
        return f"{entry['username']}:{entry.get('password', '')}"
    return None


class Registry:
    """GETs against one registry with its credentials (basic, or a bearer token from a challenge)."""

    def __init__(self, location: OciLocation, credentials: str | None) -> None:
        self.location = location
        self.credentials = credentials
        self.token: str | None = None

    def _basic(self) -> str | None:
        return "Basic " + base64.b64encode(self.credentials.encode()).decode() if self.credentials else None

    def _open(self, url: str, accept: str | None, authorization: str | None) -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": "fluxpush"})
        if accept:
            request.add_header("Accept", accept)
        if authorization:
            request.add_header("Authorization", authorization)
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
            return bytes(response.read())

    def _bearer(self, challenge: str) -> str:
        params = dict(_CHALLENGE.findall(challenge))
        query = urllib.parse.urlencode({k: params[k] for k in ("service", "scope") if k in params})
        body = json.loads(self._open(f"{params['realm']}?{query}", None, self._basic()))
        return f"Bearer {body.get('token') or body.get('access_token')}"

    def get(self, path: str, accept: str | None = None) -> bytes:
        url = f"{self.location.base}/v2/{self.location.name}/{path}"
        try:
            return self._open(url, accept, self.token or self._basic())
        except urllib.error.HTTPError as exc:
            challenge = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
            if not challenge.lower().startswith("bearer"):
                raise
        self.token = self._bearer(challenge)
        return self._open(url, accept, self.token)


def _problem(exc: Exception) -> str:
    return str(getattr(exc, "reason", exc))


def resolve_tag(registry: Registry, constraint: str | None) -> str:
    """The tag of the newest version matching `constraint` (semver over the registry's tags)."""
    try:
        tags = json.loads(registry.get("tags/list")).get("tags") or []
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SourceError(f"oci://{registry.location.name}: tags cannot be listed: {_problem(exc)}") from exc
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
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SourceError(f"{where} cannot be fetched: {_problem(exc)}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if f"sha256:{digest}" != layer["digest"]:
        raise SourceError(f"{where}: the chart layer does not match its digest {layer['digest']}")
    return data, digest
