"""Chat providers: `slack`, `discord` (Slack-compatible endpoint) and `msteams`.

Payloads follow notification-controller's notifiers field for field, in Go's field order. Go
walks metadata maps in random order; fluxpush lists metadata keys sorted, so messages are stable.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fluxpush.errors import ReportError
from fluxpush.report.events import SEVERITY_ERROR, Event, encode_json
from fluxpush.report.notify.http import ProviderClient
from fluxpush.report.notify.secrets import ProviderSettings

# The Slack Web API method that takes a bot token and answers `{"ok": false}` on errors (with
# HTTP 200). Flux compares the whole URL with https://slack.com/api/chat.postMessage; fluxpush
# looks at the path, so Enterprise Grid hosts and test receivers behave the same.
SLACK_POST_MESSAGE_PATH = "/api/chat.postMessage"

# Retired Office 365 connector hosts (`<tenant>.webhook.office.com`) only take legacy MessageCards.
MSTEAMS_CONNECTOR_HOST_SUFFIX = ".webhook.office.com"

# Microsoft Teams renders Adaptive Cards up to this schema version.
ADAPTIVE_CARD_VERSION = "1.4"


def object_name(event: Event) -> str:
    """`kustomization/apps.flux-system`: how Flux's chat notifiers name the involved object."""
    obj = event.involved_object
    return f"{obj.kind.lower()}/{obj.name}.{obj.namespace}"


def slack_payload(event: Event, channel: str, username: str) -> dict[str, Any]:
    """The Slack message body (also what Discord's `/slack` endpoint takes)."""
    attachment = {
        "color": "danger" if event.severity == SEVERITY_ERROR else "good",
        "author_name": object_name(event),
        "text": event.message,
        "mrkdwn_in": ["text"],
        "fields": [{"title": key, "value": value, "short": False}
                   for key, value in sorted(event.metadata.items())],
    }
    return {
        "channel": channel,
        "username": username or event.reporting_controller,
        "icon_url": "",
        "icon_emoji": "",
        "attachments": [attachment],
    }


def _check_slack_api(body: bytes) -> None:
    try:
        answer = json.loads(body)
    except ValueError as bad:
        raise ReportError("Slack chat.postMessage answered with a body that is not JSON") from bad
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        error = answer.get("error", "unknown") if isinstance(answer, dict) else "unknown"
        raise ReportError(f"Slack responded with error: {error}")


def post_slack(event: Event, settings: ProviderSettings, transport: ProviderClient) -> None:
    """Incoming webhook, or `chat.postMessage` with the bot token as a Bearer token."""
    headers = {"Authorization": f"Bearer {settings.token}"} if settings.token else {}
    payload = slack_payload(event, settings.channel, settings.username)
    response = transport.request("POST", settings.address, encode_json(payload), headers)
    if urlsplit(settings.address).path == SLACK_POST_MESSAGE_PATH:
        _check_slack_api(response.body)


def discord_address(address: str) -> str:
    """The Discord webhook URL with `/slack` appended to its path unless it already ends so."""
    if address.endswith("/slack"):
        return address
    parts = urlsplit(address)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/slack"))


def post_discord(event: Event, settings: ProviderSettings, transport: ProviderClient) -> None:
    """Discord through its Slack-compatible endpoint; no channel (the webhook picks it)."""
    payload = slack_payload(event, "", settings.username)
    transport.request("POST", discord_address(settings.address), encode_json(payload))


def is_msteams_connector(address: str) -> bool:
    """Whether the address is a retired O365 connector, which takes only the legacy MessageCard."""
    return (urlsplit(address).hostname or "").endswith(MSTEAMS_CONNECTOR_HOST_SUFFIX)


def msteams_message_card(event: Event) -> dict[str, Any]:
    """Legacy MessageCard for `*.webhook.office.com` addresses."""
    name = object_name(event)
    return {
        "@type": "MessageCard",
        "@context": "http://schema.org/extensions",
        "themeColor": "FF0000" if event.severity == SEVERITY_ERROR else "0076D7",
        "summary": name,
        "sections": [{
            "activityTitle": event.message,
            "activitySubtitle": name,
            "facts": [{"name": key, "value": value} for key, value in sorted(event.metadata.items())],
        }],
    }


def msteams_adaptive_card(event: Event) -> dict[str, Any]:
    """Adaptive Card for Teams Workflows (and every address that is not an O365 connector)."""
    message: dict[str, Any] = {"type": "TextBlock", "text": event.message}
    if event.severity == SEVERITY_ERROR:
        message["color"] = "attention"
    message["wrap"] = True
    summary = [("summary", event.metadata["summary"])] if "summary" in event.metadata else []
    rest = sorted((key, value) for key, value in event.metadata.items() if key != "summary")
    fact_set: dict[str, Any] = {"type": "FactSet"}
    if summary or rest:
        fact_set["facts"] = [{"title": key, "value": value} for key, value in summary + rest]
    title = {"type": "TextBlock", "text": object_name(event), "size": "large", "weight": "bolder",
             "wrap": True}
    return {
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": ADAPTIVE_CARD_VERSION,
                "body": [{"type": "Container", "items": [title, message, fact_set]}],
                "msteams": {"width": "Full"},
            },
        }],
    }


def post_msteams(event: Event, settings: ProviderSettings, transport: ProviderClient) -> None:
    """MessageCard or Adaptive Card, chosen by the address as Flux chooses."""
    connector = is_msteams_connector(settings.address)
    payload = msteams_message_card(event) if connector else msteams_adaptive_card(event)
    transport.request("POST", settings.address, encode_json(payload))
