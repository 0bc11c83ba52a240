"""Bearer-token authentication: one static token, or EKS tokens checked like aws-iam-authenticator.

An EKS token is `k8s-aws-v1.` + base64url (unpadded) of a presigned STS `GetCallerIdentity` URL.
`Authenticator` applies the authenticator's `Verify` checks to the URL; when it knows the signing
credentials it also recomputes the SigV4 query signature with the header `x-k8s-aws-id: <cluster>`,
which is what proves the token was minted for this cluster. It never calls STS.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import re
import secrets
import threading
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from kubesim.errors import unauthorized

TOKEN_PREFIX = "k8s-aws-v1."
MAX_TOKEN_BYTES = 4096  # aws-iam-authenticator's limit
MAX_EXPIRES = 900  # seconds: the authenticator accepts X-Amz-Expires 0..900
TOKEN_LIFETIME = datetime.timedelta(minutes=15)  # STS honours a presigned URL 15 min after X-Amz-Date
ALLOWED_QUERY = {
    "action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
    "x-amz-security-token", "x-amz-signature", "x-amz-signedheaders",
}
# Commercial, China and GovCloud STS host names, global or regional, with or without FIPS.
STS_HOST = re.compile(r"sts(-fips)?(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?")
EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()


def new_static_token() -> str:
    """A random static bearer token."""
    return secrets.token_urlsafe(32)


class Authenticator:
    """Accepts the static token and valid EKS tokens; `expire` revokes everything valid until now."""

    def __init__(self, cluster_name: str, token: str | None = None,
                 aws_credentials: dict[str, str] | None = None) -> None:
        self.cluster_name = cluster_name
        self._token = token or new_static_token()
        self._aws_credentials = dict(aws_credentials or {})
        self._lock = threading.Lock()
        self._seen: set[str] = set()  # EKS tokens accepted so far (revoked together by `expire`)
        self._revoked: set[str] = set()
        self._not_before: datetime.datetime | None = None

    @property
    def token(self) -> str:
        """The static token currently accepted."""
        return self._token

    def expire(self) -> None:
        """Make every token valid so far answer 401; EKS tokens minted later still work."""
        with self._lock:
            self._token = new_static_token()
            self._revoked |= self._seen
            self._seen.clear()
            # X-Amz-Date has one-second resolution: tokens dated before this second are revoked
            # outright, tokens from this very second only if they were already used.
            self._not_before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

    def authenticate(self, header: str | None) -> str:
        """The user name behind an `Authorization` header; raises 401 `ApiError` otherwise."""
        if not header or not header.startswith("Bearer "):
            raise unauthorized()
        token = header[len("Bearer "):].strip()
        if hmac.compare_digest(token.encode(), self._token.encode()):
            return "kubesim-admin"
        if not token.startswith(TOKEN_PREFIX):
            raise unauthorized()
        with self._lock:
            if token in self._revoked:
                raise unauthorized()
        user = self._verify_eks(token)
        with self._lock:
            self._seen.add(token)
        return user

    def _verify_eks(self, token: str) -> str:
        if len(token) > MAX_TOKEN_BYTES:
            raise unauthorized()
        parts = _presigned_url(token[len(TOKEN_PREFIX):])
        query = _sts_query(parts.query)
        signed_at = _signing_time(query)
        with self._lock:
            if self._not_before is not None and signed_at < self._not_before:
                raise unauthorized()
        access_key = unquote(query.get("x-amz-credential", "")).split("/", 1)[0]
        if self._aws_credentials:
            secret = self._aws_credentials.get(access_key)
            if secret is None or not _signature_matches(parts.netloc, parts.query, query, secret,
                                                        self.cluster_name):
                raise unauthorized()
        return f"eks:{access_key}"


def _presigned_url(encoded: str) -> SplitResult:
    """The STS URL a `k8s-aws-v1.` token carries: base64url, https, an STS host, path `/`."""
    try:
        url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
        parts = urlsplit(url)
        host = parts.hostname or ""
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise unauthorized() from exc
    if parts.scheme != "https" or not STS_HOST.fullmatch(host) or parts.path != "/":
        raise unauthorized()
    return parts


def _sts_query(raw_query: str) -> dict[str, str]:
    """The URL's query, names lower-cased: only known names, once each, for GetCallerIdentity
    with the cluster-name header signed."""
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        lower = key.lower()
        if lower not in ALLOWED_QUERY or lower in query:
            raise unauthorized()
        query[lower] = value
    if query.get("action") != "GetCallerIdentity":
        raise unauthorized()
    if "x-k8s-aws-id" not in query.get("x-amz-signedheaders", "").lower().split(";"):
        raise unauthorized()
    return query


def _signing_time(query: dict[str, str]) -> datetime.datetime:
    """When the URL was signed; refused when its expiry is out of range or the token is too old."""
    try:
        expires = int(query.get("x-amz-expires", ""))
        signed_at = datetime.datetime.strptime(query.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.UTC
        )
    except ValueError as exc:
        raise unauthorized() from exc
    now = datetime.datetime.now(datetime.UTC)
    if not 0 <= expires <= MAX_EXPIRES or now - signed_at > TOKEN_LIFETIME:
        raise unauthorized()
    return signed_at


def _signature_matches(host: str, raw_query: str, query: dict[str, str], secret: str, cluster: str) -> bool:
    """Recompute the SigV4 query signature (GET / with headers host and x-k8s-aws-id)."""
    signed_headers = query.get("x-amz-signedheaders", "")
    values = {"host": host, "x-k8s-aws-id": cluster}
    names = signed_headers.split(";")
    if any(name not in values for name in names):
        return False
    canonical_headers = "".join(f"{name}:{values[name]}\n" for name in names)
    # The canonical query keeps the URL's own encoding, sorted, without the signature itself.
    kept = sorted(p.partition("=")[::2] for p in raw_query.split("&") if not p.startswith("X-Amz-Signature="))
    canonical_query = "&".join(f"{k}={v}" for k, v in kept)
    canonical_request = "\n".join(
        ["GET", "/", canonical_query, canonical_headers, signed_headers, EMPTY_PAYLOAD_SHA256]
    )
    scope = unquote(query.get("x-amz-credential", "")).split("/")[1:]
    if len(scope) != 4:
        return False
    string_to_sign = "\n".join([
        "AWS4-HMAC-SHA256", query.get("x-amz-date", ""), "/".join(scope),
        hashlib.sha256(canonical_request.encode()).hexdigest(),
    ])
    key = ("AWS4" + secret).encode()
    for part in scope:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, query.get("x-amz-signature", ""))

