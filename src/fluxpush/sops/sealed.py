"""A sealed Secret: SOPS-encrypted values that no key of this run opened, shown masked.

Masked values are what `flux build` prints (`**SOPS**`, base64-encoded under `data`). Such an
object is fine to print and to compare by key set (as `flux diff` does) but must never be written:
`refuse_sealed` is what every write path asks before writing.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

# What `flux build` prints instead of the values of a SOPS-encrypted Secret.
SOPS_MASK = "**SOPS**"
SOPS_MASK_B64 = base64.b64encode(SOPS_MASK.encode()).decode()
# A `.dockerconfigjson` value must stay a JSON document for the API server: Flux masks it as one.
DOCKER_CONFIG_KEY = ".dockerconfigjson"
DOCKER_MASK_B64 = base64.b64encode(b'{"mask":"**SOPS**"}').decode()
_MASKS = (SOPS_MASK_B64, DOCKER_MASK_B64)


@dataclass(frozen=True, slots=True)
class Sealed:
    """An object whose SOPS values stayed encrypted, and why (which key is missing)."""

    object: str  # Kind/namespace/name
    reason: str

    def __str__(self) -> str:
        return f"{self.object} is SOPS encrypted and was not decrypted: {self.reason}"


def object_name(obj: dict[str, Any]) -> str:
    """`Kind/namespace/name` of a rendered object."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{obj.get('kind')}/{namespace}/{meta.get('name')}" if namespace else \
        f"{obj.get('kind')}/{meta.get('name')}"


def mask_values(obj: dict[str, Any], keys: set[str] | None = None) -> dict[str, Any]:
    """A copy of a Secret with its `data`/`stringData` values (or only `keys`) masked, `sops` dropped."""
    masked = {k: v for k, v in obj.items() if k != "sops"}
    for field, mask in (("data", SOPS_MASK_B64), ("stringData", SOPS_MASK)):
        values = masked.get(field)
        if isinstance(values, dict):
            masked[field] = {k: (_mask_for(k, mask) if keys is None or k in keys else v)
                             for k, v in values.items()}
    return masked


def _mask_for(key: str, mask: str) -> str:
    return DOCKER_MASK_B64 if key == DOCKER_CONFIG_KEY and mask == SOPS_MASK_B64 else mask


def is_sealed(obj: dict[str, Any] | None) -> bool:
    """Whether an object still holds SOPS ciphertext or a SOPS mask (never to be written)."""
    if not isinstance(obj, dict):
        return False
    if isinstance(obj.get("sops"), dict):
        return True
    data, string_data = obj.get("data"), obj.get("stringData")
    return obj.get("kind") == "Secret" and (
        (isinstance(data, dict) and any(v in _MASKS for v in data.values()))
        or (isinstance(string_data, dict) and SOPS_MASK in string_data.values()))


def value_keys(obj: dict[str, Any] | None) -> set[str]:
    """The keys of a Secret's `data` and `stringData`."""
    keys: set[str] = set()
    for field in ("data", "stringData"):
        values = (obj or {}).get(field)
        if isinstance(values, dict):
            keys.update(str(k) for k in values)
    return keys
