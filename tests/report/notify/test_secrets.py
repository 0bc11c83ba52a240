"""A Provider's address and credentials, resolved with notification-controller's precedence."""

from __future__ import annotations

import base64

import pytest

from fluxpush.errors import ReportError
from fluxpush.redact import redact, register_secrets
from fluxpush.report.notify.secrets import (
    DEFAULT_TIMEOUT_SECONDS,
    address_secrets,
    resolve_settings,
    secret_lookup,
)

from .helpers import make_provider, secrets

HOOK = "https://hooks.slack.com/services/T000/B000/very-secret-part"


def test_spec_values_without_a_secret():
    provider = make_provider("slack", "slack", address="https://hooks.example.com/x", channel="general",
                             username="flux", timeout="30s", proxy="http://proxy.example.com:3128")
    settings = resolve_settings(provider, secrets())
    assert (settings.address, settings.channel, settings.username) == ("https://hooks.example.com/x",
                                                                       "general", "flux")
    assert settings.timeout == 30.0
    assert settings.proxy == "http://proxy.example.com:3128"
    assert settings.token == "" and settings.headers == {}


def test_secret_overrides_address_and_username_and_supplies_credentials():
    provider = make_provider("slack", "slack", address="https://spec.example.com/x", username="spec-user",
                             secretRef={"name": "slack-url"})
    lookup = secrets(**{"slack-url": {"address": f"  {HOOK}\n", "token": "xoxb-123\n", "username": "bot",
                                      "headers": "X-Team: web\nX-Count: 3\n"}})
    settings = resolve_settings(provider, lookup)
    assert settings.address == HOOK  # trimmed, as Flux trims it
    assert settings.token == "xoxb-123"
    assert settings.username == "bot"
    assert settings.headers == {"X-Team": "web", "X-Count": "3"}
    assert settings.timeout == DEFAULT_TIMEOUT_SECONDS
    assert HOOK in settings.secret_values and "xoxb-123" in settings.secret_values


def test_repr_shows_no_secret_value():
    provider = make_provider("slack", "slack", secretRef={"name": "slack-url"})
    settings = resolve_settings(provider, secrets(**{"slack-url": {"address": HOOK, "token": "xoxb-123"}}))
    text = repr(settings) + str(settings)
    assert "very-secret-part" not in text and "xoxb-123" not in text
    assert "slack" in text


def test_proxy_secret_ref_wins_and_carries_credentials():
    provider = make_provider("hook", "generic", address="https://example.com/hook", proxy="http://spec:1",
                             secretRef={"name": "creds"}, proxySecretRef={"name": "proxy"})
    lookup = secrets(creds={"proxy": "http://deprecated:2"},
                     proxy={"address": "http://proxy.internal:3128", "username": "u", "password": "p@ss"})
    settings = resolve_settings(provider, lookup)
    assert settings.proxy == "http://u:p%40ss@proxy.internal:3128"
    assert "p@ss" in settings.secret_values


def test_deprecated_secret_proxy_key_beats_spec_proxy():
    provider = make_provider("hook", "generic", address="https://example.com/hook", proxy="http://spec:1",
                             secretRef={"name": "creds"})
    assert resolve_settings(provider, secrets(creds={"proxy": "http://secret:2"})).proxy == "http://secret:2"


def test_missing_secret_names_it_without_values():
    provider = make_provider("slack", "slack", secretRef={"name": "absent"})
    with pytest.raises(ReportError, match="flux-system/absent not found"):
        resolve_settings(provider, secrets())


def test_missing_address_is_an_error():
    provider = make_provider("slack", "slack", secretRef={"name": "only-token"})
    with pytest.raises(ReportError, match="has no address"):
        resolve_settings(provider, secrets(**{"only-token": {"token": "t"}}))


def test_headers_must_be_a_yaml_map_and_the_error_hides_them():
    provider = make_provider("hook", "generic", address="https://example.com/x", secretRef={"name": "h"})
    with pytest.raises(ReportError) as raised:
        resolve_settings(provider, secrets(h={"headers": "- Authorization: Bearer hidden-value"}))
    assert "hidden-value" not in str(raised.value)
    assert "flux-system/h" in str(raised.value)


def test_overlong_secret_address_is_refused_without_printing_it():
    provider = make_provider("hook", "generic", secretRef={"name": "long"})
    address = "https://example.com/" + "s" * 3000
    with pytest.raises(ReportError) as raised:
        resolve_settings(provider, secrets(long={"address": address}))
    assert address not in str(raised.value)


def test_redact_masks_plain_and_url_quoted_values():
    register_secrets(["a b/c", "abcd", "abcdef"])
    assert redact("POST https://x/a b/c failed") == "POST https://x/*** failed"
    assert redact("got a%20b%2Fc back") == "got *** back"
    assert redact("token abcd and abcdef") == "token *** and ***"
    assert redact("nothing here") == "nothing here"


def test_key_like_parts_of_a_secret_address_are_masked_too():
    hidden = address_secrets("https://user:pa55word@hooks.example.com/services/T0AB12/B0CD34/abcdefghijklmnop?sig=x1y2z3w4")
    for piece in ("T0AB12", "B0CD34", "abcdefghijklmnop", "x1y2z3w4", "user:pa55word", "sig=x1y2z3w4"):
        assert piece in hidden
    assert "services" not in hidden and "hooks.example.com" not in hidden
    assert address_secrets("https://example.com/") == ["https://example.com/"]


def test_secret_lookup_over_secret_objects():
    encoded = base64.b64encode(HOOK.encode()).decode()
    lookup = secret_lookup([
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "slack", "namespace": "flux-system"},
         "data": {"address": encoded, "token": base64.b64encode(b"t1").decode()},
         "stringData": {"token": "t2"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "broken", "namespace": "flux-system"},
         "data": {"address": "not base64!"}},
    ])
    # stringData wins over data, as the API server merges them.
    assert lookup("flux-system", "slack") == {"address": HOOK, "token": "t2"}
    assert lookup("flux-system", "broken") is None
    assert lookup("other", "slack") is None
    settings = resolve_settings(make_provider("slack", "slack", secretRef={"name": "slack"}), lookup)
    assert (settings.address, settings.token) == (HOOK, "t2")


@pytest.mark.parametrize("version", ["v1beta1", "v1beta2", "v1beta3"])
def test_every_provider_api_version_resolves_the_same(version):
    provider = make_provider("hook", "generic", version=version, address="https://example.com/x",
                             secretRef={"name": "h"}, timeout="1m")
    settings = resolve_settings(provider, secrets(h={"headers": "X-A: b"}))
    assert settings.address == "https://example.com/x"
    assert (settings.headers, settings.timeout) == ({"X-A": "b"}, 60.0)
