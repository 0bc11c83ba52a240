"""Nodes that target another cluster (`spec.kubeConfig`), as kustomize-controller applies them.

A Kustomization with `spec.kubeConfig.secretRef` is applied, pruned and health-checked in the
cluster the referenced Secret's kubeconfig describes (key `secretRef.key`, else `value`, else
`value.yaml`, as Flux reads it), read from the current (management) cluster in the node's
namespace; `--kubeconfig-for NAMESPACE/NAME=FILE` gives the kubeconfig of a Secret that lives
elsewhere. Its inventory and status stay in the management cluster, as Flux keeps them on the
Kustomization. Nothing of such a node is ever written to the management cluster. What fluxpush
cannot do yet (`configMapRef` cloud providers, HelmReleases with `kubeConfig`) fails the node,
naming the field.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fluxpush.errors import FluxpushError, InputError
from fluxpush.flux.model import FluxObject, HelmRelease
from fluxpush.kube import KubeClient
from fluxpush.kube.connection import connect_kubeconfig

SECRET_KEYS = ("value", "value.yaml")


def kube_config_of(spec: FluxObject) -> dict[str, Any] | None:
    """`spec.kubeConfig` of a Kustomization or HelmRelease, when set."""
    value = (spec.raw.get("spec") or {}).get("kubeConfig")
    return value if isinstance(value, dict) and value else None


def describe_target(kube_config: dict[str, Any], namespace: str) -> str:
    """`Secret/<namespace>/<name>` or `ConfigMap/<namespace>/<name>`: where the cluster is described."""
    for kind, field in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
        ref = kube_config.get(field)
        if isinstance(ref, dict):
            return f"{kind}/{namespace}/{ref.get('name')}"
    return "an unrecognised reference"


@dataclass(frozen=True)
class RemoteTarget:
    """The cluster a node's objects go to: its `spec.kubeConfig` reference and a client for it."""

    name: str
    client: KubeClient


class RemoteClusters:
    """Clients for the clusters nodes target, opened on first use and closed with `close()`."""

    def __init__(self, management: KubeClient, kubeconfig_files: Mapping[str, str]) -> None:
        self._management = management
        self._files = dict(kubeconfig_files)
        self._clients: dict[str, KubeClient] = {}
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.Lock()

    def target_for(self, spec: FluxObject) -> RemoteTarget | None:
        """The cluster a node targets; None for the current cluster.

        Raises InputError naming `spec.kubeConfig` when that cluster cannot be reached from here.
        """
        kube_config = kube_config_of(spec)
        if kube_config is None:
            return None
        where = describe_target(kube_config, spec.ref.namespace)
        if isinstance(spec, HelmRelease):
            raise self._refusal(spec, where, "HelmReleases with spec.kubeConfig are not supported yet")
        secret_ref = kube_config.get("secretRef")
        if not isinstance(secret_ref, dict) or not secret_ref.get("name"):
            raise self._refusal(spec, where, "only spec.kubeConfig.secretRef is supported "
                                             "(configMapRef cloud providers are not)")
        key = f"{spec.ref.namespace}/{secret_ref['name']}"
        with self._lock:
            if key not in self._clients:
                path = self._files.get(key) or self._from_secret(spec, key, secret_ref.get("key"), where)
                try:
                    # the same stop switch: an interruption stops the writes to every cluster
                    self._clients[key] = KubeClient(connect_kubeconfig(path), stop=self._management.stop)
                except (FluxpushError, OSError, ValueError) as exc:
                    raise self._refusal(spec, where, f"its kubeconfig does not connect: {exc}") from exc
            return RemoteTarget(where, self._clients[key])

    @staticmethod
    def _refusal(spec: FluxObject, where: str, why: str) -> InputError:
        return InputError(f"spec.kubeConfig targets another cluster ({where}): {why}; nothing of it "
                          "was written to the current cluster", obj=str(spec.ref), field="spec.kubeConfig",
                          hint=f"create {where} in the current cluster, or pass "
                               f"--kubeconfig-for {where.split('/', 1)[1]}=FILE")

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
