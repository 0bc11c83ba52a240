"""A preview against an EKS cluster: moto answers DescribeCluster with kubesim's address and CA, the
action signs an STS token with the AWS credentials of the environment, and kubesim verifies it."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.eks.models import eks_backends

from kubesim import KubeSim, Options

from .conftest import REPO, pull_request_event

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"  # moto's fixed account
REGION = "eu-west-1"
# moto does not check signatures; kubesim verifies tokens signed with this pair.
AWS_KEY = ("AKIAFLUXPUSHACTION01", "moto/secret/for/the/action/tests/0123456789")


@pytest.fixture
def eks_cluster(monkeypatch) -> Iterator[KubeSim]:
    """moto's EKS cluster `dev` pointing at a kubesim that accepts tokens signed with AWS_KEY."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_KEY[1])
    options = Options(cluster_name="dev", ready_delay=0.05, crd_delay=0.05)
    with KubeSim(options, token=None, aws_credentials={AWS_KEY[0]: AWS_KEY[1]}) as sim, mock_aws():
        # mock_aws swaps in its own fake keys (and restores ours, set above, when it ends)
        os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"] = AWS_KEY
        boto3.client("eks", region_name=REGION).create_cluster(
            name="dev", version="1.35", roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks", resourcesVpcConfig={}
        )
        record = eks_backends[ACCOUNT][REGION].clusters["dev"]
        record.endpoint = sim.url + "/"
        record.certificate_authority = {"data": base64.b64encode(sim.ca_pem.encode()).decode()}
        yield sim


def test_preview_against_eks_uses_a_signed_token_and_only_reads(checkout, github, run_action, eks_cluster):
    sim = eks_cluster
    checkout.edit("apps/app-2/deployment.yaml", "replicas: 1", "replicas: 4")
    head = checkout.commit("app-2: four replicas")
    github.state.add_pull(REPO, 31, head_sha=head)
    run_action.inputs.update({"eks-cluster-name": "dev", "aws-region": REGION})
    sim.requests.clear()

    run = run_action("pull_request", pull_request_event(31, head, checkout.base_sha), checkout.root, head)

    assert run.code == 0, run.stdout
    assert "against the live cluster" in run.outputs["summary"]
    (comment,) = github.state.comments
    assert "➕ create Deployment/app-2/app-2" in comment.body, "an empty cluster: everything is created"
    assert "+  replicas: 4" in comment.body
    seen = sim.requests.entries()
    assert seen and all(r.status != 401 for r in seen), "kubesim accepted the STS-signed token"
    assert {r.method for r in seen} == {"GET"}
