"""Lookups that read the live cluster for inputs the repository does not hold: substituteFrom
ConfigMaps/Secrets another controller produced, and the Secrets notification Providers name."""

from __future__ import annotations

from fluxpush.kube import KubeClient
from fluxpush.render.postbuild import VariableSourceLookup
from fluxpush.report.notify import SecretLookup
from fluxpush.report.notify.secrets import secret_lookup


def live_variable_lookup(client: KubeClient) -> VariableSourceLookup:
    """substituteFrom ConfigMaps/Secrets read from the cluster."""
    return lambda kind, namespace, name: client.get("v1", kind, name, namespace)


def live_secret_lookup(client: KubeClient) -> SecretLookup:
    """Provider Secrets read from the cluster when a notification needs them (values decoded)."""

    def lookup(namespace: str, name: str) -> dict[str, str] | None:
        secret = client.get("v1", "Secret", name, namespace)
        return secret_lookup([secret])(namespace, name) if secret is not None else None

    return lookup
