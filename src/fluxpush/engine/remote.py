"""Nodes that target another cluster (`spec.kubeConfig`), as kustomize-controller applies them.

A Kustomization or HelmRelease with `spec.kubeConfig.secretRef` is applied, pruned and
health-checked in the cluster the referenced Secret's kubeconfig describes (key `secretRef.key`,
else `value`, else `value.yaml`, as Flux reads it), read from the current (management) cluster in
the node's namespace; `--kubeconfig-for NAMESPACE/NAME=FILE` gives the kubeconfig of a Secret that
lives elsewhere. `spec.kubeConfig.configMapRef` (Flux 2.6+ workload identity) with `provider: aws`
reaches an EKS cluster with a token signed by the run's AWS credentials. Inventories and status stay
in the management cluster, as Flux keeps them on the object (a HelmRelease's release storage goes
to the target cluster, as helm-controller keeps it); nothing else of such a node is written to the
management cluster. What fluxpush cannot do (other configMapRef providers) fails the node, naming
the field.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fluxpush.errors import FluxpushError, InputError
from fluxpush.flux.model import FluxObject, describe_target, kube_config_of
from fluxpush.kube import KubeClient
from fluxpush.kube.connection import ClusterConnection, connect_eks, connect_kubeconfig

SECRET_KEYS = ("value", "value.yaml")
EKS_ARN = re.compile(r"arn:aws[a-z-]*:eks:(?P<region>[a-z0-9-]+):\d{12}:"
                     r"cluster/(?P<name>[A-Za-z0-9][A-Za-z0-9_-]*)")


def _eks_arn(arn: str, refuse: Callable[[str], InputError]) -> tuple[str, str]:
    """`(region, name)` of an EKS cluster ARN (`arn:aws:eks:REGION:ACCOUNT:cluster/NAME`)."""
    found = EKS_ARN.fullmatch(arn)
    if found is None:
        raise refuse(f"its key cluster {arn!r} is not an EKS cluster ARN "
                     "(arn:aws:eks:REGION:ACCOUNT:cluster/NAME)")
    return found["region"], found["name"]


@dataclass(frozen=True)
class RemoteTarget:
    """The cluster a node's objects go to: its `spec.kubeConfig` reference and a client for it."""

    name: str
    client: KubeClient


class RemoteClusters:
    """Clients for the clusters nodes target, opened on first use and closed with `close()`."""

    def __init__(self, management: KubeClient, kubeconfig_files: Mapping[str, str]) -> None:
        self._management = management
        self._files = dict(kubeconfig_files)  # `namespace/name` of a Secret -> kubeconfig file
        self._clients: dict[str, KubeClient] = {}
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.Lock()

    def target_for(self, spec: FluxObject) -> RemoteTarget | None:
        """The cluster and identity a node's objects are written with; None for the current cluster
        with fluxpush's own identity. With `spec.serviceAccountName` every request of the node (apply,
        prune, health, helm) impersonates `system:serviceaccount:<namespace>:<name>`, as
        kustomize-controller and helm-controller do (in the remote cluster too); the target's name is
        "" for the current cluster.

        Raises InputError naming `spec.kubeConfig` when that cluster cannot be reached from here.
        """
        remote = self._remote(spec)
        account = (spec.raw.get("spec") or {}).get("serviceAccountName")
        if not account:
            return remote
        user = f"system:serviceaccount:{spec.ref.namespace}:{account}"
        name, base = (remote.name, remote.client) if remote else ("", self._management)
        key = f"{name} as {user}"
        with self._lock:
            if key not in self._clients:
                self._clients[key] = base.impersonating(user)
            return RemoteTarget(name, self._clients[key])

    def _remote(self, spec: FluxObject) -> RemoteTarget | None:
        kube_config = kube_config_of(spec)
        if kube_config is None:
            return None
        where = describe_target(kube_config, spec.ref.namespace)
        secret_ref, map_ref = kube_config.get("secretRef"), kube_config.get("configMapRef")
        if isinstance(secret_ref, dict) and secret_ref.get("name"):
            key = f"{spec.ref.namespace}/{secret_ref['name']}"
        elif isinstance(map_ref, dict) and map_ref.get("name"):
            key = f"configmap:{spec.ref.namespace}/{map_ref['name']}"
        else:
            raise self._refusal(spec, where, "it names neither secretRef.name nor configMapRef.name")
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._connect(spec, key, kube_config, where)
            return RemoteTarget(where, self._clients[key])

    def _connect(self, spec: FluxObject, key: str, kube_config: dict[str, Any], where: str) -> KubeClient:
        try:
            if key.startswith("configmap:"):
                connection = self._from_config_map(spec, key.removeprefix("configmap:"), where)
            else:
                path = self._files.get(key) or self._from_secret(
                    spec, key, kube_config["secretRef"].get("key"), where)
                connection = connect_kubeconfig(path)
            # the same stop switch: an interruption stops the writes to every cluster
            return KubeClient(connection, stop=self._management.stop)
        except (FluxpushError, OSError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise self._refusal(spec, where, f"it does not connect: {exc}") from exc

    def _from_config_map(self, spec: FluxObject, key: str, where: str) -> ClusterConnection:
        """An EKS cluster described the workload-identity way (Flux 2.6+): ConfigMap keys `provider`
        (aws), `cluster` (the EKS ARN), optional `address` (must be its endpoint) and `ca.crt`; the
        token is signed with the run's AWS credentials."""
        namespace, name = key.split("/", 1)
        config_map = self._management.get("v1", "ConfigMap", name, namespace)
        if config_map is None:
            raise self._refusal(spec, where, "the ConfigMap does not exist in the current cluster")
        data = config_map.get("data") or {}
        provider = data.get("provider", "")
        if provider != "aws":
            raise self._refusal(spec, where, f"provider {provider or '(none)'!r} is not supported: fluxpush "
                                             "reaches clusters by configMapRef with provider aws only")
        region, cluster = _eks_arn(str(data.get("cluster", "")), lambda why: self._refusal(spec, where, why))
        connection = connect_eks(cluster, region, ca_pem=data.get("ca.crt") or None)
        address = str(data.get("address") or "").rstrip("/")
        if address and address != connection.configuration.host:
            raise self._refusal(spec, where, f"address {address} is not the endpoint of EKS cluster "
                                             f"{cluster} ({connection.configuration.host})")
        return connection

    @staticmethod
    def _refusal(spec: FluxObject, where: str, why: str) -> InputError:
        return InputError(f"spec.kubeConfig targets another cluster ({where}): {why}; nothing of it "
                          "was written to the current cluster", obj=str(spec.ref), field="spec.kubeConfig",
                          hint=f"create {where} in the current cluster" + (
                              f", or pass --kubeconfig-for {where.split('/', 1)[1]}=FILE"
                              if where.startswith("Secret/") else " and give the run AWS credentials"))

    def _from_secret(self, spec: FluxObject, key: str, wanted: Any, where: str) -> str:
        namespace, name = key.split("/", 1)
        secret = self._management.get("v1", "Secret", name, namespace)
        if secret is None:
            raise self._refusal(spec, where, "the Secret does not exist in the current cluster")
        data = secret.get("data") or {}
        names = (str(wanted),) if wanted else SECRET_KEYS
        found = next((n for n in names if n in data), None)
        if found is None:
            raise self._refusal(spec, where, f"the Secret has no key {' or '.join(names)}")
        try:
            text = base64.b64decode(str(data[found]), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise self._refusal(spec, where, f"key {found} is not valid base64") from exc
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="fluxpush-kubeconfig-")
        path = Path(self._scratch.name) / key.replace("/", "_")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(text)
        return str(path)

    def close(self) -> None:
        """Close every client opened and remove the kubeconfig files written."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None
