"""When EKS tokens are re-minted and roles re-assumed: driven by an injected clock, never by sleeping."""

from __future__ import annotations

import threading

import pytest

from fluxpush.errors import ClusterError
from fluxpush.kube.eks import (
    REASSUME_MARGIN_SECONDS,
    ROLE_SESSION_NAME,
    TOKEN_MAX_AGE_SECONDS,
    AssumedRole,
    TokenCache,
    describe_cluster,
    eks_token_cache,
)
from kube.conftest import ACCOUNT, CLUSTER, FAKE_CA_PEM, REGION
from kube.sigv4 import decode_token

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/fluxpush-deployer"


class CountingMint:
    """Stands in for STS presigning so a test can count mints; each token is distinct."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return f"token-{self.calls}"


def test_token_is_reused_until_it_is_fourteen_minutes_old(clock):
    mint = CountingMint()
    cache = TokenCache(mint, clock=clock)
    first = cache.token()
    clock.advance(TOKEN_MAX_AGE_SECONDS - 1)
    assert cache.token() == first
    assert mint.calls == 1
    clock.advance(1)
    assert cache.token() != first
    assert mint.calls == 2
    assert TOKEN_MAX_AGE_SECONDS < 15 * 60, "must re-mint before STS stops honouring the presigned URL"


def test_invalidate_forces_a_new_token(clock):
    mint = CountingMint()
    cache = TokenCache(mint, clock=clock)
    first = cache.token()
    cache.invalidate()
    assert cache.token() != first
    assert mint.calls == 2


def test_concurrent_callers_share_one_mint(clock):
    mint = CountingMint()
    cache = TokenCache(mint, clock=clock)
    barrier = threading.Barrier(8)
    seen: list[str] = []

    def worker() -> None:
        barrier.wait()
        seen.append(cache.token())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert mint.calls == 1
    assert set(seen) == {"token-1"}


@pytest.mark.integration  # moto in-process: about a second to set up
def test_role_is_assumed_with_session_name_fluxpush(moto_aws, clock):
    role = AssumedRole(moto_aws.session, ROLE_ARN, REGION, clock=clock)
    identity = role.session().client("sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/fluxpush-deployer/{ROLE_SESSION_NAME}"
    assert role.assume_count == 1


@pytest.mark.integration  # moto in-process: about a second to set up
def test_role_is_re_assumed_before_its_session_runs_out(moto_aws, clock):
    role = AssumedRole(moto_aws.session, ROLE_ARN, REGION, clock=clock)
    first = role.session()
    # moto issues one-hour sessions: with the margin still ahead the session is kept ...
    clock.advance(3600 - REASSUME_MARGIN_SECONDS - 60)
    assert role.session() is first
    assert role.assume_count == 1
    # ... and inside the margin it is replaced, so a new token never outlives its credentials.
    clock.advance(120)
    assert role.session() is not first
    assert role.assume_count == 2


@pytest.mark.integration  # moto in-process: about a second to set up
def test_token_from_an_assumed_role_carries_its_session_token(moto_aws, clock):
    role = AssumedRole(moto_aws.session, ROLE_ARN, REGION, clock=clock)
    creds = role.session().get_credentials().get_frozen_credentials()
    moto_aws.point_cluster_at("https://127.0.0.1:6443", FAKE_CA_PEM)
    cluster = describe_cluster(moto_aws.session, CLUSTER, REGION)
    token = eks_token_cache(role.session, cluster, clock=clock).token()
    params = decode_token(token).params
    assert params["X-Amz-Security-Token"] == creds.token
    assert params["X-Amz-Credential"].startswith(creds.access_key + "/")


@pytest.mark.integration  # moto in-process: about a second to set up
def test_assume_role_failure_is_a_cluster_error(moto_aws, clock):
    role = AssumedRole(moto_aws.session, "not-an-arn", REGION, clock=clock)
    with pytest.raises(ClusterError, match="sts:AssumeRole of not-an-arn failed"):
        role.session()
