"""EKS tokens, checked field by field the way aws-iam-authenticator's `Verify` checks them.

Presigning is pure botocore (no network), so these run without moto.
"""

from __future__ import annotations

import datetime
import re

import boto3
import pytest

from fluxpush.kube.eks import PRESIGN_EXPIRES_SECONDS, TOKEN_PREFIX, mint_token, token_sts_client
from kube.sigv4 import decode_token, signature_is_valid

AKID, SECRET = "AKIAFLUXPUSHTEST0001", "fluxpush/test/secret/key/0123456789abcdefghij"
# The only query keys the authenticator accepts (lower-cased), each at most once.
ALLOWED_KEYS = {
    "action",
    "version",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-signedheaders",
}


def _session(region: str = "eu-west-1", session_token: str | None = None) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        aws_session_token=session_token,
        region_name=region,
    )


def _mint(cluster: str = "dev", region: str = "eu-west-1", session_token: str | None = None) -> str:
    return mint_token(token_sts_client(_session(region, session_token), region), cluster)


def test_token_is_prefixed_unpadded_base64url_under_4_kib():
    token = _mint()
    assert token.startswith(TOKEN_PREFIX)
    body = token[len(TOKEN_PREFIX) :]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", body), "base64url alphabet, no '=' padding"
    assert len(token) <= 4096


def test_token_url_passes_every_authenticator_check():
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    decoded = decode_token(_mint(cluster="dev", region="eu-west-1"))
    params = decoded.params
    assert decoded.scheme == "https"
    assert decoded.host == "sts.eu-west-1.amazonaws.com"
    assert decoded.path == "/"
    lowered = [k.lower() for k in decoded.keys]
    assert set(lowered) <= ALLOWED_KEYS and len(lowered) == len(set(lowered))
    assert params["Action"] == "GetCallerIdentity"
    assert params["Version"] == "2011-06-15"
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert int(params["X-Amz-Expires"]) == PRESIGN_EXPIRES_SECONDS
    assert 0 <= PRESIGN_EXPIRES_SECONDS <= 900
    assert params["X-Amz-SignedHeaders"].split(";") == ["host", "x-k8s-aws-id"]
    signed_at = datetime.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.UTC
    )
    assert before <= signed_at <= before + datetime.timedelta(seconds=5)
    assert params["X-Amz-Credential"] == f"{AKID}/{signed_at:%Y%m%d}/eu-west-1/sts/aws4_request"
    assert "x-k8s-aws-id" not in lowered, "the cluster name travels as a signed header, not a parameter"
    assert "X-Amz-Security-Token" not in params, "long-term keys carry no session token"


def test_signature_covers_the_cluster_name():
    decoded = decode_token(_mint(cluster="dev"))
    assert signature_is_valid(decoded, SECRET, "dev")
    assert not signature_is_valid(decoded, SECRET, "prod"), "a token for dev must not verify for prod"
    assert not signature_is_valid(decoded, SECRET + "x", "dev")


def test_temporary_credentials_add_the_security_token():
    decoded = decode_token(_mint(session_token="FQoGZXIvYXdzEXAMPLESESSION"))
    assert decoded.params["X-Amz-Security-Token"] == "FQoGZXIvYXdzEXAMPLESESSION"
    assert signature_is_valid(decoded, SECRET, "dev")


@pytest.mark.parametrize("region", ["us-east-1", "ap-southeast-2"])
def test_sts_endpoint_is_the_clusters_region(region):
    decoded = decode_token(_mint(region=region))
    assert decoded.host == f"sts.{region}.amazonaws.com"
    assert f"/{region}/sts/aws4_request" in decoded.params["X-Amz-Credential"]
