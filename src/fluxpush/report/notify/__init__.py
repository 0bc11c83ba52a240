"""Notifications in push mode: the repository's Flux Alerts and Providers, applied to a run's events.

    send_notifications(events, alerts, providers, lookup)  -> list[Delivery]   (never raises)
    match_alerts(event, alerts, labels)                    -> list[Alert]
    resolve_settings(provider, lookup)                     -> ProviderSettings (values masked)

Modules: `alerts` (matching, routing, metadata rewriting), `secrets` (addresses and credentials),
`http` (requests, retries, proxy, timeout), `providers` (payloads per type), `send` (dispatch).
"""

from fluxpush.outbound import Retries
from fluxpush.report.notify.alerts import combine_metadata, is_routed, match_alerts
from fluxpush.report.notify.secrets import ProviderSettings, SecretDataLookup, resolve_settings
from fluxpush.report.notify.send import Delivery, send_notifications

__all__ = [
    "Delivery",
    "ProviderSettings",
    "Retries",
    "SecretDataLookup",
    "combine_metadata",
    "is_routed",
    "match_alerts",
    "resolve_settings",
    "send_notifications",
]
