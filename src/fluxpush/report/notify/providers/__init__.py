"""Provider types fluxpush delivers to, each a function `(event, settings, transport) -> None`.

    slack           incoming webhook, or chat.postMessage with a bot token
    discord         the webhook's Slack-compatible `/slack` endpoint
    msteams         MessageCard (O365 connector addresses) or Adaptive Card (Workflows)
    generic         the Event JSON
    generic-hmac    the Event JSON with X-Signature: sha256=<hmac>
    githubdispatch  repository_dispatch
    github          commit status
"""

from __future__ import annotations

from collections.abc import Callable

from fluxpush.report.events import Event
from fluxpush.report.notify.http import ProviderClient
from fluxpush.report.notify.providers.chat import post_discord, post_msteams, post_slack
from fluxpush.report.notify.providers.github import post_github, post_githubdispatch
from fluxpush.report.notify.providers.webhook import post_generic, post_generic_hmac
from fluxpush.report.notify.secrets import ProviderSettings

Notifier = Callable[[Event, ProviderSettings, ProviderClient], None]

NOTIFIERS: dict[str, Notifier] = {
    "slack": post_slack,
    "discord": post_discord,
    "msteams": post_msteams,
    "generic": post_generic,
    "generic-hmac": post_generic_hmac,
    "githubdispatch": post_githubdispatch,
    "github": post_github,
}

__all__ = ["NOTIFIERS", "Notifier"]
