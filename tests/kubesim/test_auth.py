"""Bearer authentication: the static token, and EKS tokens minted the way `aws eks get-token` mints them.

The format checks are aws-iam-authenticator's `Verify` (cluster.md §1.1); the signature check is
SigV4 with the header `x-k8s-aws-id: <cluster>`, as STS evaluates it.
"""

from __future__ import annotations

import base64
import datetime
import subprocess
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import boto3
import pytest

from kubesim import KubeSim, Options
from kubesim.auth import Authenticator
from kubesim.errors import ApiError
from kubesim.kubeconfig import build_kubeconfig, write_kubeconfig

ACCESS_KEY = "AKIAKUBESIMTEST00001"
SECRET_KEY = "kubesim-test-secret-key"  # fake credentials: nothing ever reaches AWS
CLUSTER = "prod-eu"


def mint_token(
    cluster: str, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY, region: str = "eu-west-1"
) -> str:
    """An EKS token exactly as `aws eks get-token` builds it (presigned GetCallerIdentity)."""
    session = boto3.Session(
        aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
    )
    sts = session.client("sts")

    def move_cluster_id(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if "x-k8s-aws-id" in params:
            context["x-k8s-aws-id"] = params.pop("x-k8s-aws-id")

    def sign_cluster_id(request: Any, **_: Any) -> None:
        if "x-k8s-aws-id" in request.context:
            request.headers["x-k8s-aws-id"] = request.context["x-k8s-aws-id"]

    sts.meta.events.register("provide-client-params.sts.GetCallerIdentity", move_cluster_id)
    sts.meta.events.register("before-sign.sts.GetCallerIdentity", sign_cluster_id)
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={"x-k8s-aws-id": cluster}, ExpiresIn=60, HttpMethod="GET"
    )
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def _url_of(token: str) -> str:
    encoded = token.removeprefix("k8s-aws-v1.")
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


def _token_of(url: str) -> str:
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def _rewrite(
    token: str,
    scheme: str | None = None,
    host: str | None = None,
    path: str | None = None,
    query: list[tuple[str, str]] | None = None,
    **changes: str,
) -> str:
    parts = urlsplit(_url_of(token))
    pairs = query if query is not None else [(k, changes.get(k, v)) for k, v in parse_qsl(parts.query)]
    return _token_of(
        urlunsplit((scheme or parts.scheme, host or parts.netloc, path or parts.path, urlencode(pairs), ""))
    )


def _old_date(minutes: int) -> str:
    then = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=minutes)
    return then.strftime("%Y%m%dT%H%M%SZ")


@pytest.fixture(scope="module")
def eks_sim() -> Iterator[KubeSim]:
    """A server that knows the signing credentials (so it checks the signature and cluster name)."""
    with KubeSim(
        Options(cluster_name=CLUSTER, controllers=False), aws_credentials={ACCESS_KEY: SECRET_KEY}
    ) as server:
        yield server


def _status(client_for: Any, token: str, path: str = "/version") -> tuple[int, Any]:
    status, _, body = client_for.request("GET", path, token=token)
    return status, body


def test_format_only_authenticator_accepts_a_fresh_token():
    assert Authenticator(CLUSTER).authenticate(f"Bearer {mint_token('any-cluster')}") == f"eks:{ACCESS_KEY}"


def _query_without(token: str, key: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in parse_qsl(urlsplit(_url_of(token)).query) if k != key]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t.replace("k8s-aws-v1.", "k8s-aws-v2."), id="prefix"),
        pytest.param(lambda t: t + "A" * 4096, id="longer-than-4KiB"),
        pytest.param(lambda t: "k8s-aws-v1.%%%not-base64", id="not-base64"),
        pytest.param(lambda t: _rewrite(t, scheme="http"), id="http"),
        pytest.param(lambda t: _rewrite(t, host="sts.example.com"), id="not-an-sts-host"),
        pytest.param(lambda t: _rewrite(t, path="/other"), id="path"),
        pytest.param(
            lambda t: _rewrite(t, query=[*parse_qsl(urlsplit(_url_of(t)).query), ("Extra", "1")]),
            id="unknown-query-key",
        ),
        pytest.param(
            lambda t: _rewrite(
                t, query=[*parse_qsl(urlsplit(_url_of(t)).query), ("Action", "GetCallerIdentity")]
            ),
            id="repeated-key",
        ),
        pytest.param(lambda t: _rewrite(t, Action="AssumeRole"), id="action"),
        pytest.param(lambda t: _rewrite(t, **{"X-Amz-SignedHeaders": "host"}), id="cluster-id-not-signed"),
        pytest.param(lambda t: _rewrite(t, **{"X-Amz-Expires": "901"}), id="expires-over-900"),
        pytest.param(lambda t: _rewrite(t, **{"X-Amz-Expires": "-1"}), id="expires-negative"),
        pytest.param(lambda t: _rewrite(t, **{"X-Amz-Date": _old_date(16)}), id="dated-16-min-ago"),
        pytest.param(lambda t: _rewrite(t, query=_query_without(t, "X-Amz-Date")), id="no-date"),
    ],
)
def test_format_checks_reject(mangle):
    token = mangle(mint_token(CLUSTER))
    with pytest.raises(ApiError) as rejected:
        Authenticator(CLUSTER).authenticate(f"Bearer {token}")
    assert rejected.value.code == 401


def test_token_dated_14_minutes_ago_still_passes_format_checks():
    token = _rewrite(mint_token(CLUSTER), **{"X-Amz-Date": _old_date(14)})
    assert Authenticator(CLUSTER).authenticate(f"Bearer {token}").startswith("eks:")


@pytest.mark.integration
def test_eks_token_signed_for_this_cluster_is_accepted(eks_sim, client_for, kubectl_binary, tmp_path):
    client = client_for(eks_sim)
    token = mint_token(CLUSTER)
    status, body = _status(client, token)
    assert status == 200 and body["gitVersion"].startswith("v1.")
    assert _status(client, token, "/apis")[0] == 200
    # kubectl with that token in a kubeconfig, as a deployer would write it.
    config = write_kubeconfig(build_kubeconfig(CLUSTER, eks_sim.url, eks_sim.ca_pem, token), tmp_path / "kc")
    result = subprocess.run(
        [
            str(kubectl_binary),
            "--kubeconfig",
            str(config),
            "--cache-dir",
            str(tmp_path / "c"),
            "get",
            "namespace",
            "default",
            "-o",
            "name",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "namespace/default")


@pytest.mark.integration
@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: mint_token("other-cluster"), id="wrong-cluster-name"),
        pytest.param(lambda: mint_token(CLUSTER, secret_key="not-the-secret"), id="bad-signature"),
        pytest.param(lambda: mint_token(CLUSTER, access_key="AKIAUNKNOWNKEY000000"), id="unknown-access-key"),
        pytest.param(lambda: "not-a-token", id="garbage"),
    ],
)
def test_rejected_tokens_get_a_401_status(eks_sim, client_for, token):
    status, body = _status(client_for(eks_sim), token())
    assert status == 401
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


@pytest.mark.integration
@pytest.mark.parametrize("path", ["/version", "/api", "/apis", "/openapi/v3", "/api/v1/namespaces"])
def test_every_path_needs_a_token(client, path):
    conn = client.connection()
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        assert response.status == 401
        assert b'"reason":"Unauthorized"' in response.read()
    finally:
        conn.close()


@pytest.mark.integration
def test_expire_tokens_revokes_old_tokens_only(eks_sim, client_for):
    client = client_for(eks_sim)
    old_static = eks_sim.token
    used = mint_token(CLUSTER)
    assert _status(client, used)[0] == 200
    assert _status(client, old_static)[0] == 200
    eks_sim.faults.expire_tokens()
    assert eks_sim.token != old_static
    assert _status(client, old_static)[0] == 401
    assert _status(client, used)[0] == 401
    assert _status(client, eks_sim.token)[0] == 200
    # A token minted after the expiry works. (Presigning is deterministic: within the same second the
    # same credentials and region give the very token just revoked, so this one uses another region.)
    assert _status(client, mint_token(CLUSTER, region="us-east-1"))[0] == 200
