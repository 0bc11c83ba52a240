"""Fixtures for the kube tests: a clock to move by hand, moto's EKS/STS, and one KubeSim per session."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

ACCOUNT = "123456789012"  # moto's fixed account
REGION = "eu-west-1"
CLUSTER = "dev"
# moto does not check signatures, so any key pair works; kubesim is told this pair to verify tokens with.
# A PEM-shaped CA for DescribeCluster tests that never open a TLS connection.
FAKE_CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfakefakefake\n-----END CERTIFICATE-----\n"
AWS_KEY = ("AKIAFLUXPUSHMOTO0001", "moto/secret/for/fluxpush/tests/0123456789")


@dataclass
class Moto:
    """moto's in-process AWS with one EKS cluster; `session` holds `AWS_KEY`."""

    session: boto3.Session

    def cluster_record(self, name: str = CLUSTER) -> Any:
        from moto.eks.models import eks_backends

        return eks_backends[ACCOUNT][REGION].clusters[name]

    def point_cluster_at(self, url: str, ca_pem: str, name: str = CLUSTER) -> None:
        """Make DescribeCluster answer with a reachable endpoint and a real CA (moto's are fake)."""
        record = self.cluster_record(name)
        record.endpoint = url + "/"  # moto's endpoints end with a slash; keep that quirk
        record.certificate_authority = {"data": base64.b64encode(ca_pem.encode()).decode()}


@pytest.fixture
def moto_aws() -> Iterator[Moto]:
    with mock_aws():
        session = boto3.Session(
            aws_access_key_id=AWS_KEY[0], aws_secret_access_key=AWS_KEY[1], region_name=REGION
        )
        session.client("eks").create_cluster(
            name=CLUSTER,
            version="1.35",
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
            resourcesVpcConfig={"subnetIds": []},
        )
        yield Moto(session)


@pytest.fixture(scope="session")
def kubesim() -> Iterator[Any]:
    """One KubeSim for the whole session, verifying EKS tokens signed with `AWS_KEY`."""
    kubesim_module = pytest.importorskip("kubesim")
    sim = kubesim_module.KubeSim(
        kubesim_module.Options(cluster_name=CLUSTER, crd_delay=0.3),
        port=0,
        token=None,
        latency_ms=0.0,
        aws_credentials={AWS_KEY[0]: AWS_KEY[1]},
    )
    with sim:
        yield sim


@pytest.fixture
def sim(kubesim: Any) -> Iterator[Any]:
    """The session's KubeSim with no pending faults and an empty request log."""
    kubesim.faults.clear()
    clear_log(kubesim)
    yield kubesim
    kubesim.faults.clear()


def logged(sim: Any, expected: int, verb: str | None = None) -> list[Any]:
    """kubesim's logged requests (with `verb`, if given), once at least `expected` are there.

    kubesim logs a request after it has sent the answer, so the newest entry can trail the client.
    """
    deadline = time.monotonic() + 2.0
    while True:
        found = [r for r in sim.requests if verb is None or r.verb == verb]
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def clear_log(sim: Any, quiet: float = 0.03) -> None:
    """Empty kubesim's request log once the entries of requests already answered have arrived.

    The log entry of a request is written just after its answer is sent; wait until the log has
    not grown for `quiet` seconds so a late entry does not land in the next test's view.
    """
    size, since = len(sim.requests), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.005)
        if len(sim.requests) != size:
            size, since = len(sim.requests), time.monotonic()
    sim.requests.clear()
