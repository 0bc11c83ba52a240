"""kustomize-controller's `DecryptResource` over a node's rendered objects.

An object with SOPS metadata (`sops.mac`) is decrypted whole; a Secret whose `data` values are
SOPS-encrypted files (what a `secretGenerator` makes of an encrypted file kustomize could not
read) has each such value decrypted from the format its content shows into the format its key's
extension names. MACs are not checked here, as in Flux: kustomize's own transforms change the
values they cover. When no key opens a document, the object is masked and recorded as sealed.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from fluxpush.errors import RenderError
from fluxpush.sops.document import decrypt_bytes, decrypt_mapping
from fluxpush.sops.formats import detect_format, format_for_path
from fluxpush.sops.keys import KeyRing, MissingKeyError
from fluxpush.sops.sealed import Sealed, mask_values, object_name
from fluxpush.sops.tree import SopsError

DECRYPT_ANNOTATION = "kustomize.toolkit.fluxcd.io/decrypt"


def decryption_disabled(obj: dict[str, Any]) -> bool:
    """`kustomize.toolkit.fluxcd.io/decrypt: Disabled` (any case), as Flux reads it."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(DECRYPT_ANNOTATION, "")).lower() == "disabled"


def has_sops_metadata(obj: dict[str, Any]) -> bool:
    """An object carrying SOPS metadata with a MAC (Flux's `isSOPSEncryptedResource`)."""
    meta = obj.get("sops")
    return isinstance(meta, dict) and bool(meta.get("mac"))


@dataclass
class ResourceDecryptor:
    """Decrypts one node's objects with `keys`; `note` explains a ring known to be incomplete."""

    keys: KeyRing
    note: str = ""
    node: str = ""
    sealed: list[Sealed] = field(default_factory=list)

    def _seal(self, obj: dict[str, Any], exc: SopsError, where: str = "") -> None:
        """Record a value no key opens; any other failure (tampered, corrupt) fails the build."""
        if not isinstance(exc, MissingKeyError):
            raise RenderError(f"failed to decrypt and format '{object_name(obj)}'{where}: {exc}",
                              node=self.node) from exc
        reason = str(exc) if not self.note else f"{exc}; {self.note}"
        self.sealed.append(Sealed(object_name(obj) + where, reason))

    def __call__(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The object decrypted (or masked and recorded as sealed)."""
        if decryption_disabled(obj):
            return obj
        if has_sops_metadata(obj):
            try:
                return decrypt_mapping(obj, self.keys, check_mac=False)
            except SopsError as exc:
                self._seal(obj, exc)
                return mask_values(obj) if obj.get("kind") == "Secret" else obj
        if obj.get("kind") == "Secret" and isinstance(obj.get("data"), dict):
            return self._decrypt_data(obj)
        return obj

    def _decrypt_data(self, obj: dict[str, Any]) -> dict[str, Any]:
        data = dict(obj["data"])
        failed: set[str] = set()
        for key, value in obj["data"].items():
            try:
                raw = base64.b64decode(str(value), validate=True)
            except (binascii.Error, ValueError):
                continue  # Flux lets the API server report it
            in_format = detect_format(raw)
            if in_format is None:
                continue
            try:
                plain = decrypt_bytes(raw, in_format, format_for_path(str(key)), self.keys,
                                      where=f"{object_name(obj)} data.{key}")
            except SopsError as exc:
                self._seal(obj, exc, f" data.{key}")
                failed.add(str(key))
                continue
            data[key] = base64.b64encode(plain).decode()
        result = {**obj, "data": data}
        return mask_values(result, failed) if failed else result
