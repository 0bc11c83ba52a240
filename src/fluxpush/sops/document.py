"""Decrypt one SOPS document: a file's bytes (any format) or a rendered object (a dict)."""

from __future__ import annotations

from typing import Any

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
    plain, computed = decrypt_tree(tree, meta, data_key)
    if check_mac:
        verify_mac(meta, data_key, computed)
    return plain


def decrypt_bytes(data: bytes, in_format: Format, out_format: Format, keys: KeyRing, *,
                  where: str) -> bytes:
    """A whole encrypted file decrypted and written in `out_format`, MAC verified."""
    if len(data) > MAX_ENCRYPTED_FILE_SIZE:
        raise SopsError(f"cannot decrypt file with size ({len(data)} bytes) exceeding limit "
                        f"({MAX_ENCRYPTED_FILE_SIZE})")
    tree = load(data, in_format, where=where)
    return emit(decrypt_mapping(tree, keys, check_mac=True), out_format)
