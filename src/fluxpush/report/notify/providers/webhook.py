"""Generic webhooks: `generic` (the Event JSON) and `generic-hmac` (the same, signed)."""

from __future__ import annotations

import hashlib
import hmac

from fluxpush.errors import ReportError
from fluxpush.report.events import Event, encode_event
from fluxpush.report.notify.http import ProviderClient
from fluxpush.report.notify.secrets import ProviderSettings

# notification-controller names the sending controller in this header.
COMPONENT_HEADER = "gotk-component"
SIGNATURE_HEADER = "X-Signature"


def sign(body: bytes, key: str) -> str:
    """`sha256=<hex HMAC-SHA256 of body>`, the X-Signature value (always sha256, as Flux sends)."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def _post(event: Event, settings: ProviderSettings, transport: ProviderClient, key: str | None) -> None:
    body = encode_event(event)  # serialized once: the signature covers exactly these bytes
    headers = {COMPONENT_HEADER: event.reporting_controller, **settings.headers}
    if key is not None:
        headers[SIGNATURE_HEADER] = sign(body, key)
    transport.request("POST", settings.address, body, headers)


def post_generic(event: Event, settings: ProviderSettings, transport: ProviderClient) -> None:
    """The Event JSON, with `gotk-component` and the Secret's `headers`."""
    _post(event, settings, transport, None)


def post_generic_hmac(event: Event, settings: ProviderSettings, transport: ProviderClient) -> None:
    """As `generic`, signed with the Secret's `token`; refuses to send unsigned."""
    if not settings.token:
        raise ReportError("generic-hmac needs a non-empty 'token' in the Provider's secretRef")
    _post(event, settings, transport, settings.token)
