"""Deliver a run's events through the repository's Alerts and Providers.

For every event: the matching Alerts (`alerts.match_alerts`), each Alert's Provider (same
namespace), Flux's routing rules, the metadata rewritten per Alert, then the Provider's notifier.
Each Provider's sends run in order in one worker; different Providers run concurrently. A failure
is a `Delivery` with `ok=False` and a masked error: it never raises, never stops other Providers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from fluxpush.errors import ReportError
from fluxpush.flux.model import Alert, ObjectRef, Provider
from fluxpush.outbound import Retries
from fluxpush.redact import redact
from fluxpush.report.events import Event, InvolvedObject
from fluxpush.report.notify.alerts import combine_metadata, is_routed, match_alerts
from fluxpush.report.notify.http import ProviderClient
from fluxpush.report.notify.providers import NOTIFIERS
from fluxpush.report.notify.secrets import ProviderSettings, SecretDataLookup, resolve_settings

log = logging.getLogger(__name__)

# The involved object's labels, for event sources with `matchLabels` (Flux reads the live object).
LabelLookup = Callable[[InvolvedObject], Mapping[str, str]]

# Parallel sends: each worker serves one Provider; chat and webhook endpoints are I/O bound.
DEFAULT_WORKERS = 4


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one event sent (or not) through one Alert to its Provider."""

    involved_object: str  # `Kind/namespace/name` of the event's object
    alert: ObjectRef
    provider: ObjectRef
    provider_type: str
    ok: bool
    attempts: int = 0
    error: str = ""  # secret values masked


@dataclass(frozen=True, slots=True)
class _Job:
    event: Event  # metadata already rewritten for the Alert
    alert: Alert


def _object(event: Event) -> str:
    obj = event.involved_object
    return f"{obj.kind}/{obj.namespace}/{obj.name}"


def _plan(events: Iterable[Event], alerts: Iterable[Alert], providers: Iterable[Provider],
                    labels: LabelLookup | None = None) -> tuple[dict[ObjectRef, list[_Job]], list[Delivery]]:
    """Per Provider the events it receives (in event order), and failures found without sending."""
    by_ref = {provider.ref: provider for provider in providers}
    alert_list = list(alerts)
    jobs: dict[ObjectRef, list[_Job]] = {}
    problems: list[Delivery] = []
    for event in events:
        object_labels = labels(event.involved_object) if labels else {}
        for alert in match_alerts(event, alert_list, object_labels):
            ref = ObjectRef("Provider", alert.ref.namespace, alert.provider_ref)
            provider = by_ref.get(ref)
            if provider is None:
                problems.append(Delivery(_object(event), alert.ref, ref, "", False,
                                         error=f"Alert {alert.ref} refers to {ref}, which does not exist"))
            elif not provider.suspend and is_routed(provider.provider_type, event):
                jobs.setdefault(ref, []).append(_Job(combine_metadata(event, alert), alert))
    return jobs, problems


def _failed(job: _Job, provider: Provider, error: str, attempts: int = 0) -> Delivery:
    log.warning("notification for %s through %s to %s (%s) failed: %s", _object(job.event), job.alert.ref,
                provider.ref, provider.provider_type, error)
    return Delivery(_object(job.event), job.alert.ref, provider.ref, provider.provider_type, False,
                    attempts, error)


def _send_one(job: _Job, provider: Provider, settings: ProviderSettings, policy: Retries) -> Delivery:
    transport = ProviderClient(settings.timeout, settings.proxy, policy)
    event = replace(job.event, message=redact(job.event.message),  # the body; the address keeps its secrets
                    metadata={key: redact(value) for key, value in job.event.metadata.items()})
    try:
        NOTIFIERS[provider.provider_type](event, settings, transport)
    except Exception as problem:  # an isolation boundary: one Provider never fails the run
        return _failed(job, provider, redact(str(problem)), transport.attempts)
    log.info("notification for %s sent to %s (%s)", _object(job.event), provider.ref, provider.provider_type)
    return Delivery(_object(job.event), job.alert.ref, provider.ref, provider.provider_type, True,
                    transport.attempts)


def _send_provider(provider: Provider, jobs: list[_Job], lookup: SecretDataLookup,
                   policy: Retries) -> list[Delivery]:
    if provider.provider_type not in NOTIFIERS:
        error = f"provider type {provider.provider_type!r} is not supported by fluxpush"
        return [_failed(job, provider, error) for job in jobs]
    try:
        settings = resolve_settings(provider, lookup)
    except (ReportError, ValueError) as problem:
        return [_failed(job, provider, str(problem)) for job in jobs]
    return [_send_one(job, provider, settings, policy) for job in jobs]


def send_notifications(
    events: Iterable[Event],
    alerts: Iterable[Alert],
    providers: Iterable[Provider],
    lookup: SecretDataLookup,
    *,
    labels: LabelLookup | None = None,
    policy: Retries | None = None,
    workers: int = DEFAULT_WORKERS,
) -> list[Delivery]:
    """Send every event through every matching Alert; one `Delivery` per attempted send or problem.

    `lookup` reads a Provider's Secrets; `labels` gives an involved object's labels for
    `matchLabels`. Results list the planning problems first, then each Provider's sends in order.
    """
    provider_list = list(providers)
    by_ref = {provider.ref: provider for provider in provider_list}
    jobs, results = _plan(events, alerts, provider_list, labels)
    if not jobs:
        return results
    retry = policy or Retries()
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures = [pool.submit(_send_provider, by_ref[ref], provider_jobs, lookup, retry)
                   for ref, provider_jobs in jobs.items()]
        for future in futures:
            results.extend(future.result())
    return results
