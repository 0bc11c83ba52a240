"""Flux-shaped events: one per Kustomization/HelmRelease result per run.

An `Event` carries what kustomize-controller and helm-controller post to notification-controller
(`involvedObject`, `severity`, `timestamp`, `message`, `reason`, `metadata`,
`reportingController`), and `encode_event` writes it byte for byte as Go's `encoding/json` would,
so generic webhooks, HMAC signatures and `githubdispatch` payloads match what Flux sends.
`build_event` turns one node result (plain values) into that event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from fluxpush.flux.kinds import HELM_GROUP, KUSTOMIZE_GROUP, split_api_version
from fluxpush.planning.inventory import format_time

SEVERITY_INFO = "info"
SEVERITY_ERROR = "error"

# Ready-condition reasons the controllers put in `reason` (fluxcd/pkg/apis/meta and the
# kustomize/helm APIs).
RECONCILIATION_SUCCEEDED = "ReconciliationSucceeded"
RECONCILIATION_FAILED = "ReconciliationFailed"
DEPENDENCY_NOT_READY = "DependencyNotReady"
HEALTH_CHECK_FAILED = "HealthCheckFailed"
PRUNE_FAILED = "PruneFailed"
PROGRESSING = "Progressing"

# Reasons that mean the node is fine (or on its way); every other reason is an error event.
INFO_REASONS = frozenset({RECONCILIATION_SUCCEEDED, PROGRESSING})

# Annotations on the involved object whose keys the controllers' event recorder copies into the
# event metadata (`event.toolkit.fluxcd.io/<key>`); notification-controller strips the prefix.
EVENT_GROUP = "event.toolkit.fluxcd.io"

# Metadata key suffixes, written as `<api group>/<key>` exactly as the controllers write them.
REVISION_KEY = "revision"
COMMIT_STATUS_KEY = "commit_status"
COMMIT_STATUS_UPDATE = "update"

# kind -> (API version fluxpush reports, controller that Flux would report from).
CONTROLLERS: dict[str, tuple[str, str]] = {
    "Kustomization": (f"{KUSTOMIZE_GROUP}/v1", "kustomize-controller"),
    "HelmRelease": (f"{HELM_GROUP}/v2", "helm-controller"),
}

# How many `Kind/ns/name action` lines a message lists before it says how many more there are:
# enough for a typical app change, short enough to read in a chat client.
MAX_CHANGE_LINES = 20

# The controllers' event recorder truncates messages longer than this (fluxcd/pkg/runtime/events).
MAX_MESSAGE_LENGTH = 39_000


@dataclass(frozen=True, slots=True)
class InvolvedObject:
    """`involvedObject` of an event: the Flux object the event is about."""

    kind: str
    namespace: str
    name: str
    api_version: str = ""
    uid: str = ""

    @property
    def group(self) -> str:
        """API group of the object (`kustomize.toolkit.fluxcd.io`)."""
        return split_api_version(self.api_version)[0]


@dataclass(frozen=True, slots=True)
class Event:
    """One event, as the Flux controllers post it to notification-controller."""

    involved_object: InvolvedObject
    severity: str
    timestamp: str
    message: str
    reason: str
    metadata: dict[str, str] = field(default_factory=dict)
    reporting_controller: str = ""
    reporting_instance: str = ""

    def with_metadata(self, metadata: Mapping[str, str]) -> Event:
        """A copy carrying `metadata` instead of this event's metadata."""
        return replace(self, metadata=dict(metadata))

    def to_wire(self) -> dict[str, Any]:
        """The camelCase dict in Go's field order; empty optional fields are left out."""
        obj = self.involved_object
        involved = {key: value for key, value in (
            ("kind", obj.kind), ("namespace", obj.namespace), ("name", obj.name),
            ("uid", obj.uid), ("apiVersion", obj.api_version)) if value}
        wire: dict[str, Any] = {
            "involvedObject": involved,
            "severity": self.severity,
            "timestamp": self.timestamp,
            "message": self.message,
            "reason": self.reason,
        }
        if self.metadata:
            wire["metadata"] = dict(sorted(self.metadata.items()))
        wire["reportingController"] = self.reporting_controller
        if self.reporting_instance:
            wire["reportingInstance"] = self.reporting_instance
        return wire


# Go's encoding/json escapes these so the output is safe inside HTML; the bytes a receiver signs
# or compares must be the same.
_GO_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def encode_json(value: Any) -> bytes:
    """JSON bytes as Go's `json.Marshal` writes them: compact, UTF-8, HTML characters escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escape in _GO_HTML_ESCAPES.items():
        text = text.replace(char, escape)
    return text.encode()


def encode_event(event: Event) -> bytes:
    """The event's wire form as the bytes a generic webhook receives."""
    return encode_json(event.to_wire())


def severity_of(reason: str) -> str:
    """`info` for a successful or progressing result, `error` for every other reason."""
    return SEVERITY_INFO if reason in INFO_REASONS else SEVERITY_ERROR


def summarize_changes(changes: Iterable[str], limit: int = MAX_CHANGE_LINES) -> list[str]:
    """The first `limit` change lines, then `... and N more` when there are more."""
    lines = list(changes)
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"... and {len(lines) - limit} more"]


def _message(changes: Iterable[str], error: str | None, run_url: str | None) -> str:
    parts = [error.strip()] if error and error.strip() else []
    parts.extend(summarize_changes(changes))
    if run_url:
        parts.append(f"Run: {run_url}")
    text = "\n".join(parts) or "No changes"
    return text if len(text) <= MAX_MESSAGE_LENGTH else text[: MAX_MESSAGE_LENGTH - 3] + "..."


def build_event(
    kind: str,
    namespace: str,
    name: str,
    *,
    reason: str,
    revision: str = "",
    changes: Iterable[str] = (),
    error: str | None = None,
    run_url: str | None = None,
    api_version: str | None = None,
    uid: str = "",
    annotations: Mapping[str, str] | None = None,
    timestamp: datetime | None = None,
) -> Event:
    """The one event for a node's result in this run.

    `changes` are `Kind/namespace/name action` lines (Flux's change-set format); `error` the
    failure text; `revision` goes to `<group>/revision` as the controller writes it; annotations
    `event.toolkit.fluxcd.io/<key>` of the node are copied into the metadata, as Flux's event
    recorder does; `uid` is the live object's, when known. The message is the error, the
    (capped) changes, then a link to the run.
    """
    default_version, controller = CONTROLLERS.get(kind, ("", ""))
    involved = InvolvedObject(kind, namespace, name, api_version or default_version, uid)
    metadata = {key: value for key, value in (annotations or {}).items()
                if key.startswith(f"{EVENT_GROUP}/")}
    if revision and involved.group:
        metadata[f"{involved.group}/{REVISION_KEY}"] = revision
    return Event(
        involved_object=involved,
        severity=severity_of(reason),
        timestamp=format_time(timestamp or datetime.now(UTC)),
        message=_message(changes, error, run_url),
        reason=reason,
        metadata=metadata,
        reporting_controller=controller,
    )
