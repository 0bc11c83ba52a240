"""Which Alerts an event matches and what each Provider receives, as notification-controller decides.

Per event (`filterAlertsForEvent`): skip suspended Alerts; the event must match one event source
(same namespace, defaulting to the Alert's; same kind; severity `info` takes every event, `error`
only errors; name equal or `*` — Flux has no partial wildcards, `app-*` is a literal name;
`matchLabels` against the involved object's labels); then at least one `inclusionList` regex
(when given) must match the message and no `exclusionList` regex may. Per Provider: suspended
ones get nothing; `<group>/commit_status: update` events go only to git commit-status providers;
those take only such events, events with an `event.toolkit.fluxcd.io/commit` key, or errors.

One deliberate difference: kustomize-controller sends a change-set event (to chat) and then a
"Reconciliation finished" event marked `commit_status: update` (to git providers); fluxpush sends
one event per node result, so git commit-status providers also take its `ReconciliationSucceeded`
events.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from fluxpush.flux.model import Alert
from fluxpush.report.events import (
    COMMIT_STATUS_KEY,
    COMMIT_STATUS_UPDATE,
    EVENT_GROUP,
    RECONCILIATION_SUCCEEDED,
    SEVERITY_ERROR,
    SEVERITY_INFO,
    Event,
)

log = logging.getLogger(__name__)

# Provider types that set commit statuses (notification-controller `isCommitStatusProvider`).
COMMIT_STATUS_PROVIDERS = frozenset(
    {"github", "gitlab", "gitea", "bitbucketserver", "bitbucket", "azuredevops"})

# The metadata key of an event that names a commit (`event.toolkit.fluxcd.io/commit`).
COMMIT_KEY = f"{EVENT_GROUP}/commit"


def matches_source(event: Event, source: Mapping[str, Any], severity: str,
                   labels: Mapping[str, str]) -> bool:
    """Whether `event` matches one parsed event source (its namespace already defaulted)."""
    obj = event.involved_object
    if obj.namespace != source.get("namespace") or obj.kind != source.get("kind"):
        return False
    if event.severity != severity and severity != SEVERITY_INFO:
        return False
    if source.get("name") != "*" and source.get("name") != obj.name:
        return False
    match_labels = source.get("matchLabels")
    if match_labels is None:
        return True
    return all(labels.get(key) == value for key, value in match_labels.items())


def _any_match(patterns: Iterable[str], message: str, alert: Alert, which: str) -> bool:
    for pattern in patterns:
        try:
            if re.search(pattern, message):
                return True
        except re.error as bad:
            log.warning("Alert %s: %s regex %r does not compile: %s", alert.ref, which, pattern, bad)
    return False


def alert_matches(event: Event, alert: Alert, labels: Mapping[str, str] | None = None) -> bool:
    """Whether `alert` takes `event`; `labels` are the involved object's labels."""
    if alert.suspend:
        return False
    if not any(matches_source(event, source, alert.event_severity, labels or {})
               for source in alert.event_sources):
        return False
    if alert.inclusion_list and not _any_match(alert.inclusion_list, event.message, alert, "inclusion"):
        return False
    return not _any_match(alert.exclusion_list, event.message, alert, "exclusion")


def match_alerts(event: Event, alerts: Iterable[Alert],
                 labels: Mapping[str, str] | None = None) -> list[Alert]:
    """The Alerts (in the given order) that take `event`."""
    return [alert for alert in alerts if alert_matches(event, alert, labels)]


def is_commit_status_update(event: Event) -> bool:
    """Whether the event carries `<group>/commit_status: update` (a success that sets commit statuses)."""
    key = f"{event.involved_object.group}/{COMMIT_STATUS_KEY}"
    return event.metadata.get(key) == COMMIT_STATUS_UPDATE


def is_routed(provider_type: str, event: Event) -> bool:
    """Whether a Provider of `provider_type` receives `event` at all (before metadata rewriting)."""
    update = is_commit_status_update(event)
    if provider_type not in COMMIT_STATUS_PROVIDERS:
        return not update
    return (update or bool(event.metadata.get(COMMIT_KEY)) or event.severity == SEVERITY_ERROR
            or event.reason == RECONCILIATION_SUCCEEDED)


def combine_metadata(event: Event, alert: Alert) -> Event:
    """The event as delivered through `alert`: metadata rewritten (lowest to highest precedence).

    1. `event.toolkit.fluxcd.io/<key>` keys, prefix stripped; 2. the Alert's `eventMetadata`;
    3. the Alert's `summary` as `summary`; 4. keys under the involved object's API group, prefix
    stripped. When that yields anything it replaces the metadata; conflicts are logged.
    """
    combined: dict[str, str] = {}
    sources: dict[str, list[str]] = {}

    def put(key: str, value: str, source: str) -> None:
        combined[key] = value
        sources.setdefault(key, []).append(source)

    for key, value in event.metadata.items():
        if key.startswith(f"{EVENT_GROUP}/"):
            put(key.removeprefix(f"{EVENT_GROUP}/"), value, "involved object annotations")
    for key, value in alert.event_metadata.items():
        put(key, value, "Alert .spec.eventMetadata")
    if alert.summary:
        put("summary", alert.summary, "Alert .spec.summary")
    group = event.involved_object.group
    for key, value in event.metadata.items():
        if group and key.startswith(f"{group}/"):
            put(key.removeprefix(f"{group}/"), value, "involved object controller metadata")
    conflicts = {key: found for key, found in sorted(sources.items()) if len(found) > 1}
    if conflicts:
        log.warning("Alert %s: metadata key conflicts (Flux RFC 0008 precedence applied): %s",
                    alert.ref, conflicts)
    return event.with_metadata(combined) if combined else event
