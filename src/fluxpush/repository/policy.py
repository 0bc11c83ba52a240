"""Repository policy checks run by `fluxpush validate` on top of schema and graph checks."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fluxpush.errors import InputError
from fluxpush.repository.discover import Discovery
from fluxpush.repository.origins import OriginIndex
from fluxpush.sops.sealed import SOPS_MASK

# Put on a Secret that is meant to live unencrypted in Git (a placeholder, a public CA bundle).
ALLOW_PLAIN_SECRET_ANNOTATION = "fluxpush.io/allow-plain-secret"


def _is_encrypted_value(value: Any, *, base64_encoded: bool) -> bool:
    text = str(value)
    if base64_encoded:
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return False
    return text == SOPS_MASK or text.startswith("ENC[")


def is_plain_secret(obj: dict[str, Any]) -> bool:
    """A v1 Secret with values that are neither SOPS-encrypted nor explicitly allowed."""
    if obj.get("kind") != "Secret" or obj.get("apiVersion") != "v1" or "sops" in obj:
        return False
    annotations = obj.get("metadata", {}).get("annotations") or {}
    if str(annotations.get(ALLOW_PLAIN_SECRET_ANNOTATION, "")).lower() == "true":
        return False
    values = [(v, True) for v in (obj.get("data") or {}).values()]
    values += [(v, False) for v in (obj.get("stringData") or {}).values()]
    return any(not _is_encrypted_value(v, base64_encoded=b64) for v, b64 in values)


def find_plain_secrets(discovery: Discovery) -> list[InputError]:
    """Every plain Secret rendered from the repository, with its file when it can be found."""
    origins = OriginIndex(discovery.source)
    problems = []
    for node in discovery.ordered_nodes():
        for obj in node.objects:
            if not is_plain_secret(obj):
                continue
            meta = obj["metadata"]
            found = origins.find("Secret", meta["name"], meta.get("namespace", ""))
            problems.append(InputError(
                f"plain Secret in Git (rendered by {node.ref})",
                origin=found.origin if found else None,
                obj=f"Secret/{meta.get('namespace', '')}/{meta['name']}".replace("//", "/"),
                hint=f"encrypt it with SOPS, or annotate it {ALLOW_PLAIN_SECRET_ANNOTATION}: \"true\" "
                     "if it holds nothing secret"))
    return problems
