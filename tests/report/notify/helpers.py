"""Builders for Provider/Alert objects, events and Secrets (the loopback receivers are in
`tests/http_receiver.py`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fluxpush.flux import parse_flux_object
from fluxpush.flux.model import Alert, Provider
from fluxpush.outbound import Retries
from fluxpush.report.events import Event, build_event

NAMESPACE = "flux-system"
REVISION = "main@sha1:0123456789abcdef0123456789abcdef01234567"
SHA = "0123456789abcdef0123456789abcdef01234567"

# Retries as Flux does them (4), but with millisecond waits so a test stays fast.
FAST_RETRY = Retries(retries=4, min_wait=0.01, max_wait=0.05)


def make_provider(name: str, provider_type: str, version: str = "v1beta3", namespace: str = NAMESPACE,
                  uid: str | None = None, **spec: Any) -> Provider:
    """A Provider parsed from its wire form, as discovery would parse it."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if uid:
        metadata["uid"] = uid
    parsed = parse_flux_object({"apiVersion": f"notification.toolkit.fluxcd.io/{version}", "kind": "Provider",
                                "metadata": metadata, "spec": {"type": provider_type, **spec}})
    assert isinstance(parsed, Provider)
    return parsed


def make_alert(name: str, provider: str, sources: list[dict[str, Any]], version: str = "v1beta3",
               namespace: str = NAMESPACE, **spec: Any) -> Alert:
    """An Alert parsed from its wire form."""
    parsed = parse_flux_object({"apiVersion": f"notification.toolkit.fluxcd.io/{version}", "kind": "Alert",
                                "metadata": {"name": name, "namespace": namespace},
                                "spec": {"providerRef": {"name": provider}, "eventSources": sources, **spec}})
    assert isinstance(parsed, Alert)
    return parsed


def make_event(name: str = "apps", reason: str = "ReconciliationSucceeded", kind: str = "Kustomization",
               namespace: str = NAMESPACE, **kwargs: Any) -> Event:
    """A node-result event with a fixed timestamp."""
    kwargs.setdefault("revision", REVISION)
    return build_event(kind, namespace, name, reason=reason,
                       timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), **kwargs)


def secrets(**by_name: dict[str, str]) -> Any:
    """A SecretDataLookup serving `by_name` Secrets in the flux-system namespace."""

    def lookup(namespace: str, name: str) -> dict[str, str] | None:
        return by_name.get(name) if namespace == NAMESPACE else None

    return lookup
