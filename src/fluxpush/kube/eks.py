"""Amazon EKS access through boto3: DescribeCluster, optional role assumption, bearer tokens.

Tokens are made exactly like `aws eks get-token`: a presigned STS GetCallerIdentity URL for the
cluster's region whose signature covers the header `x-k8s-aws-id: <cluster name>`, base64url
encoded without padding behind the prefix `k8s-aws-v1.`. Tokens and credentials are never logged.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions

from fluxpush.errors import ClusterError
from fluxpush.redact import register_secrets

TOKEN_PREFIX = "k8s-aws-v1."
K8S_AWS_ID = "x-k8s-aws-id"
# STS ignores X-Amz-Expires for this use (a presigned request lives 15 min after X-Amz-Date);
# the AWS CLI sends 60 and the authenticator accepts 0..900, so send what the CLI sends.
PRESIGN_EXPIRES_SECONDS = 60
# `aws eks get-token` reports expiry at mint time + 14 min; re-mint once a token is that old.
TOKEN_MAX_AGE_SECONDS = 14 * 60
# A token is only good while the credentials that signed it are: re-assume a role when less than
# a token's whole lifetime (15 min) plus a minute of slack is left on its session.
REASSUME_MARGIN_SECONDS = 16 * 60
ROLE_SESSION_NAME = "fluxpush"

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class EksCluster:
    """What DescribeCluster says about a cluster that fluxpush needs to connect."""

    name: str
    region: str
    endpoint: str
    ca_pem: str


def _move_cluster_id_to_context(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if K8S_AWS_ID in params:
        context[K8S_AWS_ID] = params.pop(K8S_AWS_ID)


def _sign_cluster_id_header(request: Any, **_: Any) -> None:
    if K8S_AWS_ID in request.context:
        request.headers[K8S_AWS_ID] = request.context[K8S_AWS_ID]


def token_sts_client(session: boto3.Session, region: str) -> Any:
    """An STS client for `region` that carries the cluster name as a signed header when presigning."""
    sts = session.client("sts", region_name=region)
    events = sts.meta.events
    events.register("provide-client-params.sts.GetCallerIdentity", _move_cluster_id_to_context)
    events.register("before-sign.sts.GetCallerIdentity", _sign_cluster_id_header)
    return sts


def mint_token(sts_client: Any, cluster_name: str) -> str:
    """A bearer token for `cluster_name`, signed by `sts_client` (made by `token_sts_client`)."""
    url = sts_client.generate_presigned_url(
        "get_caller_identity",
        Params={K8S_AWS_ID: cluster_name},
        ExpiresIn=PRESIGN_EXPIRES_SECONDS,
        HttpMethod="GET",
    )
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")


def describe_cluster(session: boto3.Session, name: str, region: str) -> EksCluster:
    """`eks:DescribeCluster`: endpoint (no trailing slash) and CA PEM of an ACTIVE cluster."""
    eks = session.client("eks", region_name=region)
    try:
        cluster = eks.describe_cluster(name=name)["cluster"]
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        hint = (
            "check the cluster name and region"
            if code == "ResourceNotFoundException"
            else "check that the job's AWS identity may call eks:DescribeCluster"
        )
        raise ClusterError(
            f"eks:DescribeCluster failed for {name!r} in {region}: {code or exc}",
            reason=code or None,
            hint=hint,
        ) from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise ClusterError(
            f"eks:DescribeCluster failed for {name!r} in {region}: {exc}",
            hint="check the AWS credentials and network access to the EKS API",
        ) from exc
    status = cluster.get("status", "")
    if status != "ACTIVE":
        raise ClusterError(
            f"EKS cluster {name!r} in {region} is {status or 'in an unknown state'}, not ACTIVE",
            hint="wait until the cluster is ACTIVE, or check for a failed create/update",
        )
    endpoint = (cluster.get("endpoint") or "").rstrip("/")
    if not endpoint:
        raise ClusterError(f"EKS cluster {name!r} in {region} has no API endpoint")
    return EksCluster(name, region, endpoint, _decode_ca(name, cluster))


def _decode_ca(name: str, cluster: dict[str, Any]) -> str:
    data = (cluster.get("certificateAuthority") or {}).get("data") or ""
    try:
        pem = base64.b64decode(data, validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ClusterError(f"EKS cluster {name!r}: certificateAuthority.data is not base64 of a PEM") from exc
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise ClusterError(f"EKS cluster {name!r}: certificateAuthority.data holds no PEM certificate")
    return pem


class AssumedRole:
    """Temporary credentials of `role_arn` (session name `fluxpush`), re-assumed before they run out."""

    def __init__(self, base: boto3.Session, role_arn: str, region: str, *, clock: Clock = time.time) -> None:
        self._base = base
        self._role_arn = role_arn
        self._region = region
        self._clock = clock
        self._lock = threading.Lock()
        self._session: boto3.Session | None = None
        self._expires_at = 0.0
        self.assume_count = 0

    def session(self) -> boto3.Session:
        """A boto3 session with credentials valid for at least `REASSUME_MARGIN_SECONDS`."""
        with self._lock:
            if self._session is None or self._expires_at - self._clock() < REASSUME_MARGIN_SECONDS:
                self._assume()
            assert self._session is not None
            return self._session

    def _assume(self) -> None:
        sts = self._base.client("sts", region_name=self._region)
        try:
            creds = sts.assume_role(RoleArn=self._role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise ClusterError(
                f"sts:AssumeRole of {self._role_arn} failed: {exc}",
                hint="check the role's trust policy and the job's AWS identity",
            ) from exc
        register_secrets([creds["SecretAccessKey"], creds["SessionToken"]])
        self._session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self._region,
        )
        self._expires_at = creds["Expiration"].timestamp()
        self.assume_count += 1


class TokenCache:
    """The current bearer token: minted on first use, re-minted when too old or after `invalidate()`."""

    def __init__(
        self, mint: Callable[[], str], *, clock: Clock = time.time, max_age: float = TOKEN_MAX_AGE_SECONDS
    ) -> None:
        self._mint = mint
        self._clock = clock
        self._max_age = max_age
        self._lock = threading.Lock()
        self._token: str | None = None
        self._minted_at = 0.0

    def token(self) -> str:
        """The cached token, or a fresh one if it is older than `max_age` or was invalidated."""
        with self._lock:
            if self._token is None or self._clock() - self._minted_at >= self._max_age:
                self._token = self._mint()
                self._minted_at = self._clock()
            return self._token

    def invalidate(self) -> None:
        """Forget the token (the server answered 401); the next `token()` mints a new one."""
        with self._lock:
            self._token = None


def eks_token_cache(
    session_for_signing: Callable[[], boto3.Session], cluster: EksCluster, *, clock: Clock = time.time
) -> TokenCache:
    """A token cache for `cluster`; each mint uses the session `session_for_signing` returns then."""

    def mint() -> str:
        return mint_token(token_sts_client(session_for_signing(), cluster.region), cluster.name)

    return TokenCache(mint, clock=clock)
