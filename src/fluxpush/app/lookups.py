"""Lookups for inputs the repository does not hold: substituteFrom ConfigMaps/Secrets another
controller produced in the cluster, and the Secrets notification Providers name — read from the
cluster, or, for runs whose cluster has no such Secret, from `$FLUXPUSH_PROVIDER_SECRETS`."""

from __future__ import annotations

import json
from collections.abc import Mapping

from fluxpush.errors import UsageError
from fluxpush.flux.model import ObjectLookup
from fluxpush.kube import KubeClient
from fluxpush.report.notify import SecretDataLookup
from fluxpush.report.notify.secrets import secret_lookup


def live_variable_lookup(client: KubeClient) -> ObjectLookup:
    """substituteFrom ConfigMaps/Secrets read from the cluster."""
    return lambda kind, namespace, name: client.get("v1", kind, name, namespace)


def live_secret_lookup(client: KubeClient) -> SecretDataLookup:
    """Provider Secrets read from the cluster when a notification needs them (values decoded)."""

    def lookup(namespace: str, name: str) -> Mapping[str, str] | None:
        secret = client.get("v1", "Secret", name, namespace)
        return secret_lookup([secret])(namespace, name) if secret is not None else None

    return lookup


PROVIDER_SECRETS_ENV = "FLUXPUSH_PROVIDER_SECRETS"


def env_secret_lookup(environ: Mapping[str, str]) -> SecretDataLookup:
    """Provider Secrets given as JSON in `$FLUXPUSH_PROVIDER_SECRETS`:
    `{"<namespace>/<name>": {"address": "https://hooks…", "token": "…"}}` (plain values, not base64).
    """
    text = environ.get(PROVIDER_SECRETS_ENV, "").strip()
    if not text:
        return lambda namespace, name: None
    try:
        table = json.loads(text)
    except json.JSONDecodeError:
        table = None
    valid = isinstance(table, dict) and all(
        isinstance(k, str) and "/" in k and isinstance(v, dict) for k, v in table.items())
    if not valid:  # the value is secret: say what is wrong with it, never echo it
        raise UsageError(f"${PROVIDER_SECRETS_ENV} must be a JSON object "
                         '{"namespace/name": {"key": "value", …}, …}')
    secrets = {key: {k: str(v) for k, v in data.items()} for key, data in table.items()}
    return lambda namespace, name: secrets.get(f"{namespace}/{name}")


def provider_secret_lookup(client: KubeClient, environ: Mapping[str, str]) -> SecretDataLookup:
    """A Provider's Secret from the cluster, else from `$FLUXPUSH_PROVIDER_SECRETS` in `environ` (the
    environment the face was given)."""
    live, given = live_secret_lookup(client), env_secret_lookup(environ)
    return lambda namespace, name: live(namespace, name) or given(namespace, name)
