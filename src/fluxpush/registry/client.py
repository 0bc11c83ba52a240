"""GETs and HEADs against one registry repository (distribution spec v2), with its credentials.

Authentication follows the registry's answer, as go-containerregistry does: credentials go as basic
auth; a `401` with a `Bearer realm=…,service=…,scope=…` challenge is exchanged for a token at the
realm (with the credentials, or anonymously) and the request repeated once. Tag lists follow the
`Link: <…>; rel="next"` header page by page. Errors name the registry and repository and what failed,
never a credential.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from fluxpush.errors import EndpointError, SourceError
from fluxpush.outbound import Reply, Session

MAX_PAGES = 1000  # pagination that never ends (a hostile or broken registry) stops here
TAGS_PAGE_SIZE = 1000  # go-containerregistry's remote.List page size
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True, slots=True)
class Location:
    """A repository on a registry: `base` (scheme://host[:port]) and `name` (path)."""

    base: str
    name: str

    @property
    def host(self) -> str:
        """`host[:port]` of the registry."""
        return self.base.split("://", 1)[1]

    def __str__(self) -> str:
        return f"{self.host}/{self.name}"


def _decode(value: str) -> str:
    return base64.b64decode(value).decode()


def _config_host(key: str) -> str:
    """A docker config `auths` key (`https://index.docker.io/v1/`, `ghcr.io`) as `host[:port]`."""
    host = key.split("://", 1)[-1].split("/", 1)[0]
    return "index.docker.io" if host in ("docker.io", "registry-1.docker.io") else host


def credentials_from_secret(secret: dict[str, Any] | None, host: str) -> str | None:
    """`user:password` from a username/password or a `.dockerconfigjson` Secret for `host`, or None."""
    if secret is None:
        return None
    data = {k: _decode(v) for k, v in (secret.get("data") or {}).items()}
    data.update({k: str(v) for k, v in (secret.get("stringData") or {}).items()})
    if "username" in data and "password" in data:
        return f"{data['username']}:{data['password']}"
    try:
        config = json.loads(data.get(".dockerconfigjson") or "{}")
    except ValueError:
        raise SourceError("the Secret's .dockerconfigjson is not JSON",
                          hint="create it with kubectl create secret docker-registry") from None
    auths = config.get("auths") if isinstance(config, dict) else None
    wanted = _config_host(host)
    for key, entry in (auths or {}).items():
        if _config_host(key) != wanted or not isinstance(entry, dict):
            continue
        if entry.get("auth"):
            return _decode(entry["auth"])
        if entry.get("username"):
            return f"{entry['username']}:{entry.get('password', '')}"
    return None


def problem_of(exc: Exception) -> str:
    """What went wrong in a registry exchange: the endpoint's problem, or the broken content's."""
    return exc.problem if isinstance(exc, EndpointError) else str(exc)


class Registry:
    """Requests to one repository with its credentials (basic, or a bearer token from a challenge)."""

    def __init__(self, location: Location, credentials: str | None, *,
                 page_size: int = TAGS_PAGE_SIZE) -> None:
        self.location = location
        self.credentials = credentials
        self.page_size = page_size
        self.session = Session()
        self.token: str | None = None

    def _basic(self) -> str | None:
        return "Basic " + base64.b64encode(self.credentials.encode()).decode() if self.credentials else None

    def _open(self, url: str, method: str, accept: str | None, authorization: str | None) -> Reply:
        headers = {"Accept": accept} if accept else {}
        if authorization:
            headers["Authorization"] = authorization
        return self.session.request(method, url, headers=headers)

    def _bearer(self, challenge: str) -> str:
        params = dict(_CHALLENGE.findall(challenge))
        if "realm" not in params:
            raise SourceError(f"{self.location}: the registry's Bearer challenge names no realm")
        query = urllib.parse.urlencode({k: params[k] for k in ("service", "scope") if k in params})
        reply = self._open(f"{params['realm']}?{query}", "GET", None, self._basic())
        body = json.loads(reply.body)
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise SourceError(f"{self.location}: the token service at {params['realm']} returned no token")
        return f"Bearer {token}"

    def request(self, path_or_url: str, accept: str | None = None, method: str = "GET") -> Reply:
        """`method` on `/v2/<name>/<path>` (or an absolute URL the registry gave), authenticating as asked.

        Raises EndpointError for a refusal or a broken connection, SourceError for a broken token
        exchange.
        """
        url = urllib.parse.urljoin(f"{self.location.base}/v2/{self.location.name}/", path_or_url)
        try:
            return self._open(url, method, accept, self.token or self._basic())
        except EndpointError as exc:
            challenge = exc.headers.get("www-authenticate", "") if exc.status == 401 else ""
            if not challenge.lower().startswith("bearer"):
                raise
        self.token = self._bearer(challenge)
        return self._open(url, method, accept, self.token)

    def get(self, path: str, accept: str | None = None) -> bytes:
        """The body of GET `/v2/<name>/<path>`."""
        return self.request(path, accept).body

    def tags(self) -> list[str]:
        """Every tag of the repository, following `Link` pagination; a SourceError says why not."""
        tags: list[str] = []
        url: str | None = f"tags/list?n={self.page_size}"
        pages = 0
        try:
            while url is not None:
                pages += 1
                if pages > MAX_PAGES:
                    raise SourceError(f"{self.location}: the tag list did not end after {MAX_PAGES} pages")
                reply = self.request(url)
                page = json.loads(reply.body)
                tags += [str(t) for t in (page.get("tags") or [])] if isinstance(page, dict) else []
                found = _NEXT.search(reply.headers.get("Link", ""))
                url = urllib.parse.urljoin(f"{self.location.base}/", found[1]) if found else None
                if url is not None and not url.startswith(f"{self.location.base}/"):
                    raise SourceError(f"{self.location}: the tag list's next page is on another host ({url})")
        except (EndpointError, ValueError) as exc:
            raise SourceError(f"{self.location}: tags cannot be listed: {problem_of(exc)}",
                              hint=self._hint(exc)) from exc
        return tags

    def digest(self, reference: str, accept: str) -> str:
        """The manifest digest of a tag (HEAD, as go-containerregistry's remote.Head)."""
        try:
            reply = self.request(f"manifests/{reference}", accept, method="HEAD")
        except (EndpointError, ValueError) as exc:
            raise SourceError(f"{self.location}:{reference}: the digest cannot be read: {problem_of(exc)}",
                              hint=self._hint(exc)) from exc
        digest = reply.headers.get("Docker-Content-Digest", "")
        if not digest.startswith("sha256:"):
            raise SourceError(f"{self.location}:{reference}: the registry sent no Docker-Content-Digest")
        return digest

    def _hint(self, exc: Exception) -> str | None:
        if not isinstance(exc, EndpointError):
            return None
        if exc.status in (401, 403):
            return ("check the credentials (secretRef, or provider for a cloud registry)"
                    if self.credentials else "the registry wants credentials: set secretRef or provider")
        if exc.tls and self.location.base.startswith("https"):
            return "for a plain-HTTP registry set insecure: true"
        return None
