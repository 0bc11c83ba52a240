"""Decrypt one SOPS document: a file's bytes (any format) or a rendered object (a dict)."""

from __future__ import annotations

import base64
import binascii
import contextlib
from typing import Any

from fluxpush.redact import register_secret
from fluxpush.sops.formats import Format, emit, load
from fluxpush.sops.keys import KeyRing
from fluxpush.sops.tree import SopsError, decrypt_tree, parse_metadata, verify_mac

# kustomize-controller refuses to decrypt files larger than this (maxEncryptedFileSize).
MAX_ENCRYPTED_FILE_SIZE = 5 << 20


def decrypt_mapping(tree: dict[str, Any], keys: KeyRing, *, check_mac: bool) -> dict[str, Any]:
    """The decrypted mapping without its `sops` section.

    `check_mac` verifies the MAC; Flux skips it for rendered objects (kustomize's own transforms,
    a name prefix or a label, change the values the MAC covers), so only untouched files check it.
    """
    meta = parse_metadata(tree.get("sops"))
    data_key = keys.data_key(meta)
    decrypted = decrypt_tree(tree, meta, data_key)
    if check_mac:
        verify_mac(meta, data_key, decrypted.mac)
    register_decrypted(decrypted.secrets)
    return decrypted.tree


# An object's identity is not secret even when a file encrypts it (sops without encrypted_regex).
_IDENTITY_FIELDS = ("apiVersion", "kind", "metadata")


def register_decrypted(values: list[tuple[tuple[str, ...], Any]]) -> None:
    """The one place decrypted values join the secret registry (masked in every output from now on).

    A `data` value is registered as it is (base64) and decoded.
    """
    for path, value in values:
        if not path or path[0] in _IDENTITY_FIELDS or isinstance(value, bool | int | float):
            continue
        register_secret(value)
        if path[0] == "data" and isinstance(value, str):
            with contextlib.suppress(binascii.Error, ValueError):  # UnicodeDecodeError is one
                register_secret(base64.b64decode(value, validate=True).decode("utf-8"))


def decrypt_bytes(data: bytes, in_format: Format, out_format: Format, keys: KeyRing, *,
                  where: str) -> bytes:
    """A whole encrypted file decrypted and written in `out_format`, MAC verified."""
    if len(data) > MAX_ENCRYPTED_FILE_SIZE:
        raise SopsError(f"cannot decrypt file with size ({len(data)} bytes) exceeding limit "
                        f"({MAX_ENCRYPTED_FILE_SIZE})")
    tree = load(data, in_format, where=where)
    return emit(decrypt_mapping(tree, keys, check_mac=True), out_format)
