"""Events shaped like the ones kustomize-controller and helm-controller post (Flux's wire format)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from fluxpush.report.events import (
    MAX_CHANGE_LINES,
    MAX_MESSAGE_LENGTH,
    build_event,
    encode_event,
    encode_json,
    severity_of,
    summarize_changes,
)

MOMENT = datetime(2026, 5, 7, 5, 2, 34, 987654, tzinfo=UTC)
REVISION = "main@sha1:0123456789abcdef0123456789abcdef01234567"


def test_kustomization_success_event_has_flux_fields_and_revision_key():
    event = build_event(
        "Kustomization",
        "flux-system",
        "apps",
        reason="ReconciliationSucceeded",
        revision=REVISION,
        changes=["Deployment/apps/podinfo configured"],
        timestamp=MOMENT,
    )
    assert event.to_wire() == {
        "involvedObject": {
            "kind": "Kustomization",
            "namespace": "flux-system",
            "name": "apps",
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        },
        "severity": "info",
        "timestamp": "2026-05-07T05:02:34Z",
        "message": "Deployment/apps/podinfo configured",
        "reason": "ReconciliationSucceeded",
        "metadata": {"kustomize.toolkit.fluxcd.io/revision": REVISION},
        "reportingController": "kustomize-controller",
    }


def test_helmrelease_event_uses_helm_group_and_controller():
    event = build_event(
        "HelmRelease",
        "apps",
        "podinfo",
        reason="ReconciliationFailed",
        revision="6.3.5",
        error="install retries exhausted",
        timestamp=MOMENT,
    )
    wire = event.to_wire()
    assert wire["involvedObject"]["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    assert wire["reportingController"] == "helm-controller"
    assert wire["metadata"] == {"helm.toolkit.fluxcd.io/revision": "6.3.5"}
    assert wire["severity"] == "error"
    assert wire["message"] == "install retries exhausted"


def test_severity_follows_the_reason():
    assert severity_of("ReconciliationSucceeded") == "info"
    assert severity_of("Progressing") == "info"
    for reason in ("ReconciliationFailed", "DependencyNotReady", "HealthCheckFailed", "PruneFailed"):
        assert severity_of(reason) == "error"


def test_message_orders_error_changes_and_run_link():
    event = build_event(
        "Kustomization",
        "flux-system",
        "apps",
        reason="HealthCheckFailed",
        error="  timeout waiting for: [Deployment/apps/podinfo status: 'InProgress']\n",
        changes=["Deployment/apps/podinfo configured", "Service/apps/podinfo unchanged"],
        run_url="https://github.com/o/r/actions/runs/42",
        timestamp=MOMENT,
    )
    assert event.message.splitlines() == [
        "timeout waiting for: [Deployment/apps/podinfo status: 'InProgress']",
        "Deployment/apps/podinfo configured",
        "Service/apps/podinfo unchanged",
        "Run: https://github.com/o/r/actions/runs/42",
    ]


def test_changes_are_capped_with_a_count_of_the_rest():
    changes = [f"ConfigMap/apps/cm-{i} created" for i in range(MAX_CHANGE_LINES + 7)]
    lines = summarize_changes(changes)
    assert lines[:-1] == changes[:MAX_CHANGE_LINES]
    assert lines[-1] == "... and 7 more"
    assert summarize_changes(changes[:3]) == changes[:3]
    event = build_event(
        "Kustomization", "flux-system", "apps", reason="ReconciliationSucceeded", changes=changes
    )
    assert event.message.count("\n") == MAX_CHANGE_LINES


def test_a_result_without_changes_still_says_so():
    event = build_event("Kustomization", "flux-system", "apps", reason="ReconciliationSucceeded")
    assert event.message == "No changes"
    assert "metadata" not in event.to_wire()  # no revision, no metadata: omitted as Go omits it


def test_overlong_message_is_truncated_to_the_recorder_limit():
    event = build_event(
        "Kustomization",
        "flux-system",
        "apps",
        reason="ReconciliationFailed",
        error="x" * (MAX_MESSAGE_LENGTH + 10),
    )
    assert len(event.message) == MAX_MESSAGE_LENGTH
    assert event.message.endswith("...")


def test_uid_of_the_live_object_is_carried_when_known():
    event = build_event("Kustomization", "flux-system", "apps", reason="Progressing", uid="1234-abcd")
    assert event.to_wire()["involvedObject"]["uid"] == "1234-abcd"
    assert list(event.to_wire()["involvedObject"]) == ["kind", "namespace", "name", "uid", "apiVersion"]


def test_event_annotations_are_copied_and_others_ignored():
    event = build_event(
        "Kustomization",
        "flux-system",
        "apps",
        reason="ReconciliationSucceeded",
        annotations={"event.toolkit.fluxcd.io/env": "prod", "team": "platform"},
    )
    assert event.metadata == {"event.toolkit.fluxcd.io/env": "prod"}


def test_timestamp_is_utc_whole_seconds():
    plus_two = timezone(timedelta(hours=2))
    event = build_event(
        "Kustomization",
        "flux-system",
        "apps",
        reason="Progressing",
        timestamp=datetime(2026, 5, 7, 7, 2, 34, 500000, tzinfo=plus_two),
    )
    assert event.timestamp == "2026-05-07T05:02:34Z"


def test_encoding_matches_go_json_marshal():
    event = build_event(
        "Kustomization",
        "flux-system",
        "apps",
        reason="ReconciliationFailed",
        error="Deployment/apps/web <b>&</b> naïve",
        timestamp=MOMENT,
        annotations={"event.toolkit.fluxcd.io/z": "1", "event.toolkit.fluxcd.io/a": "2"},
    )
    body = encode_event(event)
    # Go: compact, keys in struct order, map keys sorted, <>& escaped, UTF-8 kept.
    assert body.startswith(
        b'{"involvedObject":{"kind":"Kustomization","namespace":"flux-system","name":"apps",'
        b'"apiVersion":"kustomize.toolkit.fluxcd.io/v1"},"severity":"error",'
    )
    assert b'"message":"Deployment/apps/web \\u003cb\\u003e\\u0026\\u003c/b\\u003e na\xc3\xafve"' in body
    assert body.index(b'"event.toolkit.fluxcd.io/a"') < body.index(b'"event.toolkit.fluxcd.io/z"')
    assert body.endswith(
        b'"reason":"ReconciliationFailed","metadata":{"event.toolkit.fluxcd.io/a":"2",'
        b'"event.toolkit.fluxcd.io/z":"1"},"reportingController":"kustomize-controller"}'
    )
    assert json.loads(body) == event.to_wire()
    assert encode_json({"a": "\u2028"}) == b'{"a":"\\u2028"}'
