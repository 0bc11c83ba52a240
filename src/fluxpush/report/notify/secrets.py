"""A Provider's address, credentials and transport settings, resolved as notification-controller does.

Secret values come through an injected `SecretDataLookup` (the engine reads the cluster; the action can
serve its environment), are held by `ProviderSettings` whose repr shows no value, and are registered
with `fluxpush.redact`, which masks them in any text that leaves fluxpush.

Precedence (notification-controller `createNotifier`): Secret `address` over `spec.address`;
`token`, `password`, `headers` only from the Secret; Secret `username` over `spec.username`;
`spec.proxySecretRef` over the Secret's deprecated `proxy` key over the deprecated `spec.proxy`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from fluxpush.errors import ReportError, YAMLError
from fluxpush.flux.duration import parse_duration
from fluxpush.flux.model import Provider
from fluxpush.redact import register_secrets
from fluxpush.yamldoc import load_safe

# (namespace, name) -> the Secret's decoded `data` (or `stringData`), None when there is none.
SecretDataLookup = Callable[[str, str], Mapping[str, str] | None]

# Provider.GetTimeout() when `spec.timeout` is unset.
DEFAULT_TIMEOUT_SECONDS = 15.0

# notification-controller refuses Secret addresses longer than the CRD allows `spec.address` to be.
MAX_ADDRESS_LENGTH = 2048

# Parts of a secret webhook URL that are masked on their own when an endpoint echoes them back:
# path segments and query values this long that hold a digit, or are long enough to be a key.
MIN_MASKED_PART = 6
MIN_KEYLIKE_PART = 16


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """Where and how to deliver for one Provider. Only `redact`ed text about it may be shown."""

    provider_type: str
    address: str = field(repr=False)
    channel: str = ""
    username: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    proxy: str = field(default="", repr=False)
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    uid: str = ""
    commit_status_expr: str = ""
    secret_values: tuple[str, ...] = field(default=(), repr=False)


def _is_keylike(piece: str) -> bool:
    has_digit = any(c.isdigit() for c in piece)
    return len(piece) >= MIN_KEYLIKE_PART or (len(piece) >= MIN_MASKED_PART and has_digit)


def address_secrets(address: str) -> list[str]:
    """The address and its key-like parts (path, query, segments, values, user info)."""
    parts = urlsplit(address)
    pieces = [parts.path, parts.query, *parts.path.split("/"),
              *(item.partition("=")[2] for item in parts.query.split("&")), parts.netloc.rpartition("@")[0]]
    return [address, *(piece for piece in pieces if _is_keylike(piece))]


def secret_lookup(secrets: Iterable[Mapping[str, Any]]) -> SecretDataLookup:
    """A SecretDataLookup over Secret objects (wire dicts): `data` base64-decoded, `stringData` on top.

    For the engine (Secrets listed from the cluster) and the action (Secrets it builds from its
    environment). A `data` value that is not base64 text makes that Secret unreadable (None).
    """
    table: dict[tuple[str, str], dict[str, str] | None] = {}
    for secret in secrets:
        metadata = secret.get("metadata") or {}
        key = (metadata.get("namespace") or "default", metadata.get("name", ""))
        try:
            data = {k: base64.b64decode(v, validate=True).decode()
                    for k, v in (secret.get("data") or {}).items()}
        except (binascii.Error, UnicodeDecodeError, TypeError):
            table[key] = None
            continue
        table[key] = {**data, **{k: str(v) for k, v in (secret.get("stringData") or {}).items()}}
    return lambda namespace, name: table.get((namespace, name))


def _secret(lookup: SecretDataLookup, namespace: str, name: str, what: str) -> Mapping[str, str]:
    data = lookup(namespace, name)
    if data is None:
        raise ReportError(f"Provider {what} Secret {namespace}/{name} not found")
    return data


def _headers(data: Mapping[str, str], where: str) -> dict[str, str]:
    text = data.get("headers")
    if text is None:
        return {}
    try:
        parsed = load_safe(text, f"Secret {where} key 'headers'")
    except YAMLError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ReportError(f"Secret {where} key 'headers' is not a YAML map of header names to values")
    return {str(key): str(value) for key, value in parsed.items()}


def _proxy_from_secret(data: Mapping[str, str], where: str) -> str:
    address = data.get("address", "").strip()
    if not address:
        raise ReportError(f"proxy Secret {where} has no 'address' key")
    username, password = data.get("username", ""), data.get("password", "")
    if not username:
        return address
    parts = urlsplit(address)
    credentials = quote(username, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{credentials}@{parts.netloc}"))


def resolve_settings(provider: Provider, lookup: SecretDataLookup) -> ProviderSettings:
    """Address, credentials, headers, proxy and timeout of `provider`; raises ReportError.

    Error messages name the Provider and the Secret, never a value from either.
    """
    spec = provider.raw.get("spec") or {}
    namespace = provider.ref.namespace
    address, username, proxy = spec.get("address", ""), spec.get("username", ""), spec.get("proxy", "")
    token = password = ""
    headers: dict[str, str] = {}
    secret_values: list[str] = []
    if provider.secret_ref:
        where = f"{namespace}/{provider.secret_ref}"
        data = _secret(lookup, namespace, provider.secret_ref, "secretRef")
        secret_values.extend(value.strip() for value in data.values())
        if "address" in data:
            address = data["address"].strip()
            secret_values.extend(address_secrets(address))
            if len(address) > MAX_ADDRESS_LENGTH:
                raise ReportError(f"Secret {where} key 'address' is longer than {MAX_ADDRESS_LENGTH} bytes")
        token, password = data.get("token", "").strip(), data.get("password", "")
        username = data.get("username", username)
        proxy = data.get("proxy", proxy).strip()
        headers = _headers(data, where)
        secret_values.extend(headers.values())
    proxy_ref = (spec.get("proxySecretRef") or {}).get("name")
    if proxy_ref:
        data = _secret(lookup, namespace, proxy_ref, "proxySecretRef")
        secret_values.extend(value.strip() for value in data.values())
        proxy = _proxy_from_secret(data, f"{namespace}/{proxy_ref}")
        secret_values.append(proxy)
    if not address:
        raise ReportError(f"Provider {provider.ref} has no address in spec.address or its secretRef")
    timeout = spec.get("timeout")
    register_secrets(secret_values)
    return ProviderSettings(
        provider_type=provider.provider_type,
        address=address,
        channel=provider.channel or "",
        username=username,
        token=token,
        password=password,
        headers=headers,
        proxy=proxy,
        timeout=parse_duration(timeout) if timeout else DEFAULT_TIMEOUT_SECONDS,
        uid=(provider.raw.get("metadata") or {}).get("uid", ""),
        commit_status_expr=spec.get("commitStatusExpr", ""),
        secret_values=tuple(v for v in secret_values if v),
    )
