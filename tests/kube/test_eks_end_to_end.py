"""The whole EKS path: moto's DescribeCluster -> CA -> STS-signed token -> TLS to kubesim -> a LIST.

kubesim checks each token like aws-iam-authenticator (prefix, URL shape, allowed query keys,
x-k8s-aws-id signed, age) and recomputes its SigV4 signature with the cluster name it serves.
"""

from __future__ import annotations

import time

import pytest
from moto.sts.models import sts_backends

from fluxpush.errors import ClusterError
from fluxpush.kube import KubeClient, connect_eks
from kube.conftest import ACCOUNT, CLUSTER, REGION, clear_log, logged

pytestmark = pytest.mark.integration


@pytest.fixture
def eks(moto_aws, sim):
    """moto's EKS cluster `dev`, answering DescribeCluster with kubesim's URL and CA."""
    moto_aws.point_cluster_at(sim.url, sim.ca_pem)
    return moto_aws


def trust_assumed_role_keys(sim) -> None:
    """Tell kubesim the secrets of the role sessions moto handed out, so it can verify their tokens.

    kubesim takes its AWS key pairs at construction and has no public way to add one later, while
    moto's assumed-role keys are random; this reaches into its authenticator's table.
    """
    for role in sts_backends[ACCOUNT]["global"].assumed_roles:
        sim.authenticator._aws_credentials[role.access_key_id] = role.secret_access_key


def names(items: list[dict]) -> set[str]:
    return {i["metadata"]["name"] for i in items}


def test_describe_cluster_token_and_tls_reach_the_cluster(eks, sim):
    connection = connect_eks(CLUSTER, REGION, session=eks.session)
    assert connection.configuration.host == sim.url, "moto's trailing slash is stripped"
    with KubeClient(connection) as kube:
        assert {"default", "kube-system"} <= names(kube.list("v1", "Namespace"))
    assert [r.status for r in sim.requests if r.status == 401] == []


def test_token_for_another_cluster_is_refused(moto_aws, sim):
    moto_aws.session.client("eks").create_cluster(
        name="staging", version="1.35", roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks", resourcesVpcConfig={}
    )
    moto_aws.point_cluster_at(sim.url, sim.ca_pem, name="staging")
    connection = connect_eks("staging", REGION, session=moto_aws.session)
    kube = KubeClient(connection)
    with kube, pytest.raises(ClusterError) as caught:
        kube.list("v1", "Namespace")
    assert caught.value.status == 401
    token = connection.configuration.api_key["BearerToken"]
    assert token.startswith("k8s-aws-v1.") and token not in str(caught.value), "never show the token"
    # one try, one renewal with a fresh token, then the error: never a loop
    assert [r.status for r in logged(sim, 2)] == [401, 401]


def test_assumed_role_tokens_are_accepted(eks, sim):
    connection = connect_eks(
        CLUSTER, REGION, session=eks.session, role_arn=f"arn:aws:iam::{ACCOUNT}:role/fluxpush-deployer"
    )
    trust_assumed_role_keys(sim)
    with KubeClient(connection) as kube:
        assert "default" in names(kube.list("v1", "Namespace"))
    role_keys = {r.access_key_id for r in sts_backends[ACCOUNT]["global"].assumed_roles}
    assert role_keys and all(k.startswith("ASIA") for k in role_keys)


def test_a_401_after_tokens_expire_is_survived_by_minting_a_new_one(eks, sim):
    with KubeClient(connect_eks(CLUSTER, REGION, session=eks.session)) as kube:
        kube.list("v1", "Namespace")
        # kubesim revokes tokens dated before the second expire_tokens() is called in; let the
        # clock pass into a new second so the cached token is one of those.
        first_second = int(time.time())
        while int(time.time()) == first_second:
            time.sleep(0.02)
        sim.faults.expire_tokens()
        clear_log(sim)
        assert "default" in names(kube.list("v1", "Namespace"))
    assert [(r.verb, r.status) for r in logged(sim, 2)] == [("list", 401), ("list", 200)]
