"""The example repository's Provider and Alert, as committed, deliver to a Slack webhook."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxpush.flux import parse_flux_object
from fluxpush.flux.model import Alert, Provider
from fluxpush.report.notify import send_notifications
from fluxpush.yamldoc import load_file

from .helpers import FAST_RETRY, make_event, secrets

pytestmark = pytest.mark.integration

NOTIFICATIONS = Path(__file__).resolve().parents[3] / "examples/gitops-platform/infrastructure/notifications"


def _load(name: str) -> Provider | Alert:
    (document,) = load_file(str(NOTIFICATIONS / name))
    parsed = parse_flux_object(document.data, document.origin)
    assert isinstance(parsed, Provider | Alert)
    return parsed


def test_example_alert_sends_kustomization_and_external_secrets_events(receiver):
    provider, alert = _load("provider.yaml"), _load("alert.yaml")
    lookup = secrets(**{"slack-webhook": {"address": f"{receiver.url}/services/T/B/example"}})
    events = [
        make_event("apps", changes=["Deployment/apps/podinfo configured"]),
        make_event("external-secrets", kind="HelmRelease", namespace="external-secrets",
                   reason="ReconciliationFailed", revision="0.10.4", error="install retries exhausted"),
        make_event("other", kind="HelmRelease", namespace="apps"),  # not a source of the Alert
    ]
    results = send_notifications(events, [alert], [provider], lookup, policy=FAST_RETRY)
    assert [(r.involved_object, r.ok) for r in results] == [
        ("Kustomization/flux-system/apps", True), ("HelmRelease/external-secrets/external-secrets", True)]
    bodies = [request.json() for request in receiver.requests]
    assert [body["channel"] for body in bodies] == ["deployments", "deployments"]
    assert [body["attachments"][0]["author_name"] for body in bodies] == [
        "kustomization/apps.flux-system", "helmrelease/external-secrets.external-secrets"]
    assert bodies[1]["attachments"][0]["fields"] == [{"title": "revision", "value": "0.10.4", "short": False}]
