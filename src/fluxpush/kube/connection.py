"""How to reach one cluster: a client `Configuration` plus a way to renew its credentials.

Three ways to build one: `connect_eks` (boto3 + STS-signed token), `connect_kubeconfig`
(isolated loading, the global default configuration is never touched) and `connect_sandbox`
(an in-process kubesim whose lifetime the caller owns).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

import boto3
from kubernetes.client import Configuration

from fluxpush.kube.eks import AssumedRole, Clock, TokenCache, describe_cluster, eks_token_cache
from fluxpush.kube.kubeconfig import load_kubeconfig
from fluxpush.redact import register_secrets

BEARER: Final = "BearerToken"  # the auth setting name the generated client uses for `Authorization: Bearer`


@dataclass(slots=True)
class ClusterConnection:
    """A ready `Configuration` for one cluster; `renew_credentials` (if any) is tried once on a 401."""

    name: str
    configuration: Configuration
    renew_credentials: Callable[[], None] | None = None
    impersonate: str = ""  # a user every request acts as (`Impersonate-User`), e.g. a service account


def _register_credentials(configuration: Configuration) -> None:
    """Make the connection's token and password masked in every output (`fluxpush.redact`)."""
    register_secrets([*(configuration.api_key or {}).values(), configuration.password])


def _bearer_configuration(host: str, ca_pem: str, token: Callable[[], str]) -> Configuration:
    configuration = Configuration(host=host, ca_cert_data=ca_pem)
    configuration.api_key_prefix = {BEARER: "Bearer"}
    configuration.api_key = {BEARER: token()}
    _register_credentials(configuration)

    def refresh(cfg: Configuration) -> None:
        cfg.api_key[BEARER] = token()
        _register_credentials(cfg)

    configuration.refresh_api_key_hook = refresh  # type: ignore[assignment]  # declared as None there
    return configuration


def connect_eks(
    cluster_name: str,
    region: str,
    *,
    role_arn: str | None = None,
    session: boto3.Session | None = None,
    clock: Clock = time.time,
    ca_pem: str | None = None,
) -> ClusterConnection:
    """Connect to an EKS cluster: DescribeCluster, optional `sts:AssumeRole`, a cached STS token;
    `ca_pem` (when given) is trusted instead of the CA DescribeCluster reports."""
    base = session or boto3.Session(region_name=region)
    signer: Callable[[], boto3.Session]
    if role_arn:
        signer = AssumedRole(base, role_arn, region, clock=clock).session
        describer = signer()
    else:
        signer, describer = (lambda: base), base
    cluster = describe_cluster(describer, cluster_name, region)
    tokens: TokenCache = eks_token_cache(signer, cluster, clock=clock)
    configuration = _bearer_configuration(cluster.endpoint, ca_pem or cluster.ca_pem, tokens.token)
    return ClusterConnection(f"eks:{cluster_name} ({region})", configuration, tokens.invalidate)


def connect_kubeconfig(path: str | None = None, context: str | None = None) -> ClusterConnection:
    """Connect through a kubeconfig (`path`, else `$KUBECONFIG`, else ~/.kube/config) and context."""
    configuration, context_name = load_kubeconfig(path, context)
    _register_credentials(configuration)
    return ClusterConnection(f"kubeconfig:{context_name}", configuration)


class SandboxServer(Protocol):
    """What fluxpush needs of a running `kubesim.KubeSim`."""

    @property
    def url(self) -> str: ...
    @property
    def ca_pem(self) -> str: ...
    @property
    def token(self) -> str: ...


def connect_sandbox(sim: SandboxServer) -> ClusterConnection:
    """Connect to a running in-process `kubesim.KubeSim` by its URL, CA and (current) static token."""
    configuration = _bearer_configuration(sim.url, sim.ca_pem, lambda: sim.token)
    return ClusterConnection(f"sandbox:{sim.url}", configuration)
