"""Each provider type's exact payload and headers, received by a real HTTP server on 127.0.0.1.

Payloads match notification-controller v2.6's notifiers (slack.go, discord.go, teams.go,
forwarder.go, github_dispatch.go, github.go) field for field; metadata lists are sorted by key
where Go would walk a map in random order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from fluxpush.report.events import Event, encode_event
from fluxpush.report.notify import send_notifications
from fluxpush.report.notify.alerts import combine_metadata
from fluxpush.report.notify.providers.chat import discord_address, is_msteams_connector
from fluxpush.report.notify.providers.github import parse_repository, status_description
from http_receiver import Receiver

from .helpers import FAST_RETRY, REVISION, SHA, make_alert, make_event, make_provider, secrets

pytestmark = pytest.mark.integration

CHANGES = ["Deployment/apps/podinfo configured", "Service/apps/podinfo created"]
UID = "8f2c1a5e-3b4d-4c6e-9f00-123456789abc"


def deliver(provider_type: str, spec: dict[str, Any], lookup: Any = None, event: Event | None = None,
            **alert_spec: Any) -> tuple[Any, Event]:
    """Send one event through one Alert to one Provider; returns the deliveries and the event as sent."""
    provider = make_provider("target", provider_type, uid=UID, **spec)
    alert = make_alert("alert", "target", [{"kind": "Kustomization", "name": "*"},
                                            {"kind": "HelmRelease", "name": "*"}], **alert_spec)
    event = event or make_event(changes=CHANGES, run_url="https://github.com/o/r/actions/runs/7")
    results = send_notifications([event], [alert], [provider], lookup or secrets(), policy=FAST_RETRY)
    return results, combine_metadata(event, alert)


def only(receiver: Receiver) -> Any:
    assert len(receiver.requests) == 1, receiver.requests
    return receiver.requests[0]


def test_slack_incoming_webhook(receiver):
    address = f"{receiver.url}/services/T000/B000/XXXX"
    results, sent = deliver("slack", {"secretRef": {"name": "slack"}}, secrets(slack={"address": address}),
                            eventMetadata={"env": "prod"})
    assert [r.ok for r in results] == [True]
    request = only(receiver)
    assert (request.method, request.path) == ("POST", "/services/T000/B000/XXXX")
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    assert request.json() == {
        "channel": "", "username": "kustomize-controller", "icon_url": "", "icon_emoji": "",
        "attachments": [{
            "color": "good", "author_name": "kustomization/apps.flux-system", "text": sent.message,
            "mrkdwn_in": ["text"],
            "fields": [{"title": "env", "value": "prod", "short": False},
                       {"title": "revision", "value": REVISION, "short": False}],
        }],
    }
    assert sent.message == "\n".join([*CHANGES, "Run: https://github.com/o/r/actions/runs/7"])


def test_slack_bot_token_and_channel_via_chat_post_message(receiver):
    receiver.answer("/api/chat.postMessage", (200, b'{"ok": true}'))
    lookup = secrets(bot={"token": "xoxb-1-2-3"})
    results, _ = deliver("slack", {"address": f"{receiver.url}/api/chat.postMessage", "channel": "deploys",
                                   "username": "fluxbot", "secretRef": {"name": "bot"}}, lookup,
                         event=make_event(reason="ReconciliationFailed", error="apply failed"))
    assert [r.ok for r in results] == [True]
    request = only(receiver)
    assert request.headers["authorization"] == "Bearer xoxb-1-2-3"
    body = request.json()
    assert (body["channel"], body["username"]) == ("deploys", "fluxbot")
    assert body["attachments"][0]["color"] == "danger"


def test_slack_api_error_with_http_200_is_a_failure(receiver):
    receiver.answer("/api/chat.postMessage", (200, b'{"ok": false, "error": "channel_not_found"}'))
    results, _ = deliver("slack", {"address": f"{receiver.url}/api/chat.postMessage", "channel": "nope",
                                   "secretRef": {"name": "bot"}}, secrets(bot={"token": "xoxb-9"}))
    assert [r.ok for r in results] == [False]
    assert "channel_not_found" in results[0].error


def test_discord_posts_slack_payload_to_the_slack_endpoint(receiver):
    lookup = secrets(discord={"address": f"{receiver.url}/api/webhooks/123/tok"})
    results, sent = deliver("discord", {"channel": "ignored", "secretRef": {"name": "discord"}}, lookup)
    assert [r.ok for r in results] == [True]
    request = only(receiver)
    assert request.path == "/api/webhooks/123/tok/slack"
    body = request.json()
    assert body["channel"] == "" and body["username"] == "kustomize-controller"
    assert body["attachments"][0]["author_name"] == "kustomization/apps.flux-system"
    assert body["attachments"][0]["text"] == sent.message


def test_discord_address_rule():
    assert discord_address("https://discord.com/api/webhooks/1/t") == "https://discord.com/api/webhooks/1/t/slack"
    assert discord_address("https://discord.com/api/webhooks/1/t/slack") == "https://discord.com/api/webhooks/1/t/slack"
    assert discord_address("https://d.example/h?wait=true") == "https://d.example/h/slack?wait=true"


def test_msteams_workflows_address_gets_an_adaptive_card(receiver):
    address = f"{receiver.url}/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t"
    event = make_event(reason="HealthCheckFailed", error="timeout waiting for Deployment/apps/podinfo")
    results, sent = deliver("msteams", {"secretRef": {"name": "teams"}}, secrets(teams={"address": address}),
                            event=event, eventMetadata={"env": "prod"}, summary="prod cluster")
    assert [r.ok for r in results] == [True]
    request = only(receiver)
    assert request.path == "/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t"
    assert request.json() == {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4",
            "body": [{"type": "Container", "items": [
                {"type": "TextBlock", "text": "kustomization/apps.flux-system", "size": "large",
                 "weight": "bolder", "wrap": True},
                {"type": "TextBlock", "text": sent.message, "color": "attention", "wrap": True},
                {"type": "FactSet", "facts": [{"title": "summary", "value": "prod cluster"},
                                              {"title": "env", "value": "prod"},
                                              {"title": "revision", "value": REVISION}]},
            ]}],
            "msteams": {"width": "Full"},
        }}]}


def test_msteams_o365_connector_gets_a_message_card_through_the_proxy(receiver):
    # The receiver is the Provider's HTTP proxy: it sees the absolute URL of the connector.
    address = "http://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/ghi/jkl"
    results, sent = deliver("msteams", {"address": address, "proxy": receiver.url})
    assert [r.ok for r in results] == [True]
    request = only(receiver)
    assert request.path == address
    assert request.json() == {
        "@type": "MessageCard", "@context": "http://schema.org/extensions", "themeColor": "0076D7",
        "summary": "kustomization/apps.flux-system",
        "sections": [{"activityTitle": sent.message, "activitySubtitle": "kustomization/apps.flux-system",
                      "facts": [{"name": "revision", "value": REVISION}]}],
    }


def test_msteams_schema_is_chosen_by_host():
    assert is_msteams_connector("https://contoso.webhook.office.com/webhookb2/x")
    assert is_msteams_connector("https://contoso.webhook.office.com:443/webhookb2/x")
    assert not is_msteams_connector("https://prod-1.westus.logic.azure.com/workflows/x")
    assert not is_msteams_connector("https://webhook.office.com.evil.example/x")


def test_generic_posts_the_event_json_with_secret_headers(receiver):
    lookup = secrets(hook={"headers": "Authorization: Bearer hook-token\nX-Env: prod\n"})
    spec = {"address": f"{receiver.url}/flux", "secretRef": {"name": "hook"}}
    results, sent = deliver("generic", spec, lookup)
    assert [r.ok for r in results] == [True]
    request = only(receiver)
    assert request.body == encode_event(sent)
    assert request.headers["gotk-component"] == "kustomize-controller"
    assert request.headers["authorization"] == "Bearer hook-token"
    assert request.headers["x-env"] == "prod"
    assert request.json()["metadata"] == {"revision": REVISION}
    assert "x-signature" not in request.headers


def test_generic_hmac_signs_the_exact_bytes(receiver):
    key = "hmac-key-123"
    results, _ = deliver("generic-hmac", {"address": f"{receiver.url}/signed", "secretRef": {"name": "k"}},
                         secrets(k={"token": key}))
    assert [r.ok for r in results] == [True]
    request = only(receiver)
    expected = "sha256=" + hmac.new(key.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-signature"] == expected
    assert request.json()["involvedObject"]["name"] == "apps"


def test_generic_hmac_without_token_sends_nothing(receiver):
    results, _ = deliver("generic-hmac", {"address": f"{receiver.url}/signed"})
    assert [r.ok for r in results] == [False]
    assert "token" in results[0].error
    assert receiver.requests == []


def test_githubdispatch_sends_repository_dispatch(receiver):
    receiver.answer("/api/v3/repos/acme/deploys/dispatches", (204, b""))
    results, sent = deliver("githubdispatch", {"address": f"{receiver.url}/acme/deploys",
                                               "secretRef": {"name": "gh"}}, secrets(gh={"token": "ghp_abc"}))
    assert [r.ok for r in results] == [True]
    request = only(receiver)
    assert (request.method, request.path) == ("POST", "/api/v3/repos/acme/deploys/dispatches")
    assert request.headers["authorization"] == "Bearer ghp_abc"
    assert request.headers["accept"] == "application/vnd.github.v3+json"
    assert request.json() == {"event_type": "Kustomization/apps.flux-system",
                              "client_payload": sent.to_wire()}


def test_github_repository_address_forms():
    assert parse_repository("https://github.com/acme/app.git").url("dispatches") == \
        "https://api.github.com/repos/acme/app/dispatches"
    assert parse_repository("ssh://git@ghe.example.com/acme/app").api == "https://ghe.example.com/api/v3"
    assert parse_repository("http://127.0.0.1:8080/acme/app/").api == "http://127.0.0.1:8080/api/v3"


STATUSES = f"/api/v3/repos/acme/app/commits/{SHA}/statuses"
CREATE = f"/api/v3/repos/acme/app/statuses/{SHA}"
CONTEXT = "kustomization/apps/8f2c1a5e"


def github(receiver: Receiver, event: Event) -> Any:
    return deliver("github", {"address": f"{receiver.url}/acme/app", "secretRef": {"name": "gh"}},
                   secrets(gh={"token": "ghp_abc"}), event=event)[0]


def test_github_commit_status_on_the_revision_sha(receiver):
    receiver.answer(STATUSES, (200, b"[]"))
    receiver.answer(CREATE, (201, b"{}"))
    results = github(receiver, make_event(reason="HealthCheckFailed", error="timeout"))
    assert [r.ok for r in results] == [True]
    listed, created = receiver.requests
    assert (listed.method, listed.path) == ("GET", f"{STATUSES}?per_page=50")
    assert (created.method, created.path) == ("POST", CREATE)
    assert created.headers["authorization"] == "Bearer ghp_abc"
    assert created.json() == {"state": "failure", "description": "health check failed", "context": CONTEXT}


def test_github_duplicate_status_is_not_posted_again(receiver):
    latest = [{"context": CONTEXT, "state": "success", "description": "reconciliation succeeded"},
              {"context": CONTEXT, "state": "failure", "description": "health check failed"}]
    receiver.answer(STATUSES, (200, json.dumps(latest).encode()))
    results = github(receiver, make_event())
    assert [r.ok for r in results] == [True]
    assert [r.method for r in receiver.requests] == ["GET"]


def test_github_skips_progressing_and_needs_a_commit(receiver):
    progressing = make_event(reason="Progressing").with_metadata(
        {"event.toolkit.fluxcd.io/commit": SHA, "kustomize.toolkit.fluxcd.io/revision": REVISION})
    assert [r.ok for r in github(receiver, progressing)] == [True]
    helm = make_event(kind="HelmRelease", name="podinfo", revision="6.3.5", reason="ReconciliationFailed")
    results = github(receiver, helm)
    assert [r.ok for r in results] == [False]
    assert "no commit hash" in results[0].error
    assert receiver.requests == []


def test_commit_status_description_splits_camel_case():
    assert status_description("ReconciliationSucceeded") == "reconciliation succeeded"
    assert status_description("HealthCheckFailed") == "health check failed"
    assert status_description("ArtifactFailedOCI2") == "artifact failed oci 2"


def test_unsupported_provider_type_is_reported(receiver):
    results, _ = deliver("rocket", {"address": f"{receiver.url}/rocket"})
    assert [r.ok for r in results] == [False]
    assert "not supported" in results[0].error
    assert receiver.requests == []
