"""Remote clusters the Flux 2.6+ workload-identity way (issue 15.5): `spec.kubeConfig.configMapRef`
names a ConfigMap with `provider: aws`, `cluster` (the EKS ARN), optional `address` and `ca.crt`
(the keys fluxcd/pkg's auth reads). fluxpush calls DescribeCluster and signs the token with the
run's AWS credentials (moto here); the spoke kubesim verifies the token's SigV4 signature for its
cluster name. Wrong provider, bad ARN, wrong address and missing ConfigMap fail the node."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from clusterdump import cluster_dump
from fluxpush.flux.model import ObjectRef
from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.inventory import inventory_name
from fluxpush.planning.result import Outcome
from kubesim import KubeSim, Options

pytestmark = pytest.mark.integration
APP_2 = ObjectRef("Kustomization", "flux-system", "app-2")
ACCOUNT, REGION, CLUSTER = "123456789012", "eu-west-1", "spoke-eks"
ARN = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
AWS_KEY = ("AKIAFLUXPUSHREMOTE01", "moto/secret/for/the/remote/cluster/tests")
REMOTE = "  targetNamespace: app-2\n  kubeConfig:\n    configMapRef:\n      name: spoke-eks\n"


@pytest.fixture
def eks_spoke(monkeypatch):
    """A kubesim serving EKS cluster `spoke-eks` that accepts tokens signed with AWS_KEY, and moto's
    DescribeCluster answering with its URL and CA; the run's credentials come from the environment."""
    with KubeSim(Options(cluster_name=CLUSTER, ready_delay=0.02, crd_delay=0.02), token=None,
                 aws_credentials={AWS_KEY[0]: AWS_KEY[1]}) as sim, \
            KubeClient(connect_sandbox(sim)) as client, mock_aws():
        # inside mock_aws, which swaps in fake credentials of its own
        for name, value in (("AWS_ACCESS_KEY_ID", AWS_KEY[0]), ("AWS_SECRET_ACCESS_KEY", AWS_KEY[1]),
                            ("AWS_DEFAULT_REGION", REGION)):
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        boto3.client("eks", region_name=REGION).create_cluster(
            name=CLUSTER, version="1.35", roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks", resourcesVpcConfig={})
        from moto.eks.models import eks_backends

        record = eks_backends[ACCOUNT][REGION].clusters[CLUSTER]
        record.endpoint = sim.url + "/"
        record.certificate_authority = {"data": base64.b64encode(sim.ca_pem.encode()).decode()}
        yield sim, client


def _config_map(sandbox, **data: str) -> None:
    sandbox.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}, "t")
    sandbox.client.apply({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "spoke-eks", "namespace": "flux-system"}, "data": data}, "t")


def _result(run):
    return next(r for r in run.results if r.node == APP_2)


def test_configmapref_with_provider_aws_lands_in_the_eks_spoke(sandbox, eks_spoke):
    spoke_sim, spoke_client = eks_spoke
    sandbox.edit("clusters/dev/apps.yaml", "  targetNamespace: app-2\n", REMOTE)
    _config_map(sandbox, provider="aws", cluster=ARN, address=spoke_sim.url)
    spoke_before = cluster_dump(SimpleNamespace(sim=spoke_sim))

    run = sandbox.run(apply=True)

    result = _result(run)
    assert result.outcome is Outcome.READY, result.message
    assert result.plan.cluster == "ConfigMap/flux-system/spoke-eks"
    added = set(cluster_dump(SimpleNamespace(sim=spoke_sim))) - set(spoke_before)
    assert {"apps/v1 Deployment app-2/app-2", "v1 Namespace /app-2"} <= added
    assert sandbox.client.get("apps/v1", "Deployment", "app-2", "app-2") is None
    assert sandbox.client.get("v1", "ConfigMap", inventory_name(APP_2), "flux-system") is not None
    eks_writes = [r for r in spoke_sim.requests.entries() if r.method in ("POST", "PATCH", "PUT")]
    assert eks_writes and spoke_client.get("v1", "ConfigMap", inventory_name(APP_2), "flux-system") is None


@pytest.mark.parametrize(("data", "why"), [
    ({"provider": "gcp", "cluster": ARN}, "provider 'gcp' is not supported"),
    ({"provider": "aws", "cluster": "spoke-eks"}, "is not an EKS cluster ARN"),
    ({"provider": "aws", "cluster": ARN, "address": "https://elsewhere.example:443"},
     "address https://elsewhere.example:443 is not the endpoint of EKS cluster spoke-eks"),
    (None, "the ConfigMap does not exist in the current cluster"),
])
def test_a_configmapref_fluxpush_cannot_follow_fails_the_node_and_writes_nothing_there(
        sandbox, eks_spoke, data, why):
    spoke_sim, _ = eks_spoke
    sandbox.edit("clusters/dev/apps.yaml", "  targetNamespace: app-2\n", REMOTE)
    if data is not None:
        _config_map(sandbox, **data)
    spoke_before = cluster_dump(SimpleNamespace(sim=spoke_sim))

    run = sandbox.run(apply=True)

    result = _result(run)
    assert result.outcome is Outcome.FAILED
    assert "spec.kubeConfig targets another cluster (ConfigMap/flux-system/spoke-eks)" in result.message
    assert why in result.message
    assert cluster_dump(SimpleNamespace(sim=spoke_sim)) == spoke_before
    assert sandbox.client.get("apps/v1", "Deployment", "app-2", "app-2") is None


def test_without_aws_credentials_the_node_fails_without_a_traceback(sandbox, eks_spoke, monkeypatch):
    spoke_sim, _ = eks_spoke
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "")  # empty is unset for botocore (mock_aws restores these names)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    sandbox.edit("clusters/dev/apps.yaml", "  targetNamespace: app-2\n", REMOTE)
    _config_map(sandbox, provider="aws", cluster=ARN)

    run = sandbox.run(apply=True)

    result = _result(run)
    assert result.outcome is Outcome.FAILED
    assert "spec.kubeConfig targets another cluster (ConfigMap/flux-system/spoke-eks)" in result.message
    assert "credentials" in result.message.lower(), result.message
    assert [r for r in spoke_sim.requests.entries() if r.method != "GET"] == []
