"""Cluster access: connections (EKS, kubeconfig, sandbox) and the one REST client fluxpush uses."""

from fluxpush.kube.client import KubeClient
from fluxpush.kube.connection import ClusterConnection, connect_eks, connect_kubeconfig, connect_sandbox
from fluxpush.kube.discovery import ResourceInfo
from fluxpush.kube.retry import RetryPolicy

__all__ = [
    "ClusterConnection",
    "KubeClient",
    "ResourceInfo",
    "RetryPolicy",
    "connect_eks",
    "connect_kubeconfig",
    "connect_sandbox",
]
