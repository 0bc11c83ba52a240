"""eks:DescribeCluster through boto3 against moto: endpoint, CA, status and the errors around them."""

from __future__ import annotations

import pytest

from fluxpush.errors import ClusterError
from fluxpush.kube.eks import describe_cluster
from kube.conftest import CLUSTER, FAKE_CA_PEM, REGION

pytestmark = pytest.mark.integration  # moto in-process: about a second to set up each


def test_endpoint_loses_its_trailing_slash_and_ca_is_decoded(moto_aws):
    moto_aws.point_cluster_at("https://127.0.0.1:6443", FAKE_CA_PEM)
    cluster = describe_cluster(moto_aws.session, CLUSTER, REGION)
    assert cluster.endpoint == "https://127.0.0.1:6443"
    assert cluster.ca_pem == FAKE_CA_PEM
    assert (cluster.name, cluster.region) == (CLUSTER, REGION)


def test_moto_default_ca_is_not_a_pem(moto_aws):
    # moto's certificateAuthority.data is random base64, which must not reach a TLS context.
    with pytest.raises(ClusterError, match="is not base64 of a PEM"):
        describe_cluster(moto_aws.session, CLUSTER, REGION)


def test_cluster_that_is_not_active_is_refused(moto_aws):
    moto_aws.point_cluster_at("https://127.0.0.1:6443", FAKE_CA_PEM)
    moto_aws.cluster_record().status = "UPDATING"
    with pytest.raises(ClusterError, match="is UPDATING, not ACTIVE") as caught:
        describe_cluster(moto_aws.session, CLUSTER, REGION)
    assert caught.value.hint and "ACTIVE" in caught.value.hint


def test_missing_cluster_names_the_aws_error(moto_aws):
    with pytest.raises(ClusterError) as caught:
        describe_cluster(moto_aws.session, "nope", REGION)
    assert caught.value.reason == "ResourceNotFoundException"
    assert "'nope' in eu-west-1" in caught.value.message
    assert "region" in (caught.value.hint or "")
