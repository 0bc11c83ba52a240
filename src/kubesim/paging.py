"""List paging: `limit`/`continue` tokens like kube-apiserver's (opaque base64 JSON)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from kubesim.errors import bad_request

Obj = dict[str, Any]


def position(obj: Obj) -> str:
    """Where an object sorts in a list (namespace/name, the store's order)."""
    meta = obj["metadata"]
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def encode_continue(start: str, resource_version: int) -> str:
    """An opaque continue token: resume after `start`, at the first page's resourceVersion."""
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": resource_version, "start": start}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str) -> tuple[str, int | None]:
    """(start, resourceVersion) of a continue token; ("", None) for none; 400 when malformed."""
    if not token:
        return "", None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return str(data["start"]), int(data["rv"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise bad_request(f"continue key is not valid: {exc}") from exc
