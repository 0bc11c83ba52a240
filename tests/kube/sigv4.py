"""An independent check of an EKS token, written from aws-iam-authenticator's rules (test helper)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class DecodedToken:
    """The presigned URL inside a token, split up."""

    scheme: str
    host: str
    path: str
    raw_query: str
    params: dict[str, str]
    keys: list[str]


def decode_token(token: str) -> DecodedToken:
    """Split `k8s-aws-v1.<base64url>` into the presigned URL's parts (no padding is expected)."""
    body = token.removeprefix("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    return DecodedToken(
        parts.scheme, parts.netloc, parts.path, parts.query, dict(pairs), [k for k, _ in pairs]
    )


def signature_is_valid(decoded: DecodedToken, secret: str, cluster_name: str) -> bool:
    """Recompute the SigV4 query signature of `GET /` with the headers host and x-k8s-aws-id."""
    headers = {"host": decoded.host, "x-k8s-aws-id": cluster_name}
    signed = decoded.params["X-Amz-SignedHeaders"].split(";")
    canonical_headers = "".join(f"{name}:{headers[name]}\n" for name in signed)
    pairs = [p.split("=", 1) for p in decoded.raw_query.split("&") if not p.startswith("X-Amz-Signature=")]
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    request = "\n".join(["GET", "/", canonical_query, canonical_headers, ";".join(signed), EMPTY_SHA256])
    scope = decoded.params["X-Amz-Credential"].split("/")[1:]
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            decoded.params["X-Amz-Date"],
            "/".join(scope),
            hashlib.sha256(request.encode()).hexdigest(),
        ]
    )
    key = ("AWS4" + secret).encode()
    for part in scope:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(
        hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), decoded.params["X-Amz-Signature"]
    )
