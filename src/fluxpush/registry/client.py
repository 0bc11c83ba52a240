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
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from http.client import HTTPMessage
from typing import Any

from fluxpush.errors import SourceError

FETCH_TIMEOUT = 60.0  # seconds, as for HTTP chart repositories
MAX_BODY = 64 * 1024 * 1024  # a tag list or manifest larger than this is refused, not read into memory
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


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer: status, headers, body."""

    status: int
    headers: Message
    body: bytes


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


class _KeepAuthOnSameHost(urllib.request.HTTPRedirectHandler):
    """Follow redirects (blob storage, CDNs), but send credentials only back to the same host, as
    go-containerregistry does."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: HTTPMessage, newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        moved = urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc
        if new is not None and moved:
            new.headers = {k: v for k, v in new.headers.items() if k.lower() != "authorization"}
            new.unredirected_hdrs.pop("Authorization", None)
        return new


_OPENER = urllib.request.build_opener(_KeepAuthOnSameHost)


def _problem(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    return str(getattr(exc, "reason", exc))


class Registry:
    """Requests to one repository with its credentials (basic, or a bearer token from a challenge)."""

    def __init__(self, location: Location, credentials: str | None, *,
                 page_size: int = TAGS_PAGE_SIZE) -> None:
        self.location = location
        self.credentials = credentials
        self.page_size = page_size
        self.token: str | None = None

    def _basic(self) -> str | None:
        return "Basic " + base64.b64encode(self.credentials.encode()).decode() if self.credentials else None

    def _open(self, url: str, method: str, accept: str | None, authorization: str | None) -> Reply:
        request = urllib.request.Request(url, method=method, headers={"User-Agent": "fluxpush"})
        if accept:
            request.add_header("Accept", accept)
        if authorization:
            request.add_header("Authorization", authorization)
        with _OPENER.open(request, timeout=FETCH_TIMEOUT) as response:
            body = bytes(response.read(MAX_BODY + 1))
            if len(body) > MAX_BODY:
                raise SourceError(f"{self.location}: the registry's answer is larger than {MAX_BODY} bytes")
            return Reply(response.status, response.headers, body)

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

        Raises urllib errors (HTTPError for a refusal) and SourceError for a broken token exchange.
        """
        url = urllib.parse.urljoin(f"{self.location.base}/v2/{self.location.name}/", path_or_url)
        try:
            return self._open(url, method, accept, self.token or self._basic())
        except urllib.error.HTTPError as exc:
            challenge = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
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
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SourceError(f"{self.location}: tags cannot be listed: {_problem(exc)}",
                              hint=self._hint(exc)) from exc
        return tags

    def digest(self, reference: str, accept: str) -> str:
        """The manifest digest of a tag (HEAD, as go-containerregistry's remote.Head)."""
        try:
            reply = self.request(f"manifests/{reference}", accept, method="HEAD")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SourceError(f"{self.location}:{reference}: the digest cannot be read: {_problem(exc)}",
                              hint=self._hint(exc)) from exc
        digest = reply.headers.get("Docker-Content-Digest", "")
        if not digest.startswith("sha256:"):
            raise SourceError(f"{self.location}:{reference}: the registry sent no Docker-Content-Digest")
        return digest

    def _hint(self, exc: Exception) -> str | None:
        if isinstance(exc, urllib.error.HTTPError) and exc.code in (401, 403):
            return ("check the credentials (secretRef, or provider for a cloud registry)"
                    if self.credentials else "the registry wants credentials: set secretRef or provider")
        tls = isinstance(exc, urllib.error.URLError) and "SSL" in str(exc.reason)
        if tls and self.location.base.startswith("https"):
            return "for a plain-HTTP registry set insecure: true"
        return None
