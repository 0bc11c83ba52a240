"""A SOPS document as data: its metadata, which values are encrypted, decryption and the MAC.

Follows getsops/sops `sops.go`: values are walked depth-first in document order (a list keeps its
parent's path); whether a value is encrypted follows `unencrypted_suffix`, `encrypted_suffix`,
`unencrypted_regex`, `encrypted_regex` applied to every key of its path, in that order; the MAC is
SHA-512 over every value (or only the encrypted ones with `mac_only_encrypted`), hex upper-case,
stored encrypted with the data key and `lastmodified` as additional data.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fluxpush.sops.cipher import SopsCipherError, decrypt_value, mac_bytes

# getsops/sops MACOnlyEncryptedInitialization: a MAC over encrypted values only never equals one
# over all values.
MAC_ONLY_ENCRYPTED_INIT = bytes.fromhex(
    "8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69")


class SopsError(ValueError):
    """A SOPS document that cannot be read or decrypted; the message carries no value."""


@dataclass(frozen=True, slots=True)
class MasterKey:
    """One recipient entry of the metadata: `kind` is age, pgp, kms, gcp_kms, azure_kv or hc_vault."""

    kind: str
    entry: dict[str, Any]

    @property
    def label(self) -> str:
        """Who can decrypt: the age recipient, PGP fingerprint or KMS ARN."""
        for name in ("recipient", "fp", "arn", "resource_id", "vault_address", "vaultUrl"):
            if self.entry.get(name):
                return f"{self.kind} {self.entry[name]}"
        return self.kind


@dataclass(frozen=True, slots=True)
class Metadata:
    """The `sops` section of a document, as far as decryption needs it."""

    keys: tuple[MasterKey, ...]
    mac: str
    lastmodified: str
    unencrypted_suffix: str = ""
    encrypted_suffix: str = ""
    unencrypted_regex: str = ""
    encrypted_regex: str = ""
    mac_only_encrypted: bool = False
    shamir_threshold: int = 0
    groups: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def recipients(self) -> str:
        """Every recipient, for an error saying which key is missing."""
        return ", ".join(key.label for key in self.keys) or "no recipient"


KEY_KINDS = ("age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault")


def _keys_of(group: dict[str, Any]) -> list[MasterKey]:
    found = []
    for kind in KEY_KINDS:
        entries = group.get(kind)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                found.append(MasterKey(kind, entry))
    return found


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return "" if value is None else str(value)


def parse_metadata(section: Any) -> Metadata:
    """Read the `sops` section; raises SopsError when it is not SOPS metadata."""
    if not isinstance(section, dict) or (not section.get("mac") and "lastmodified" not in section):
        raise SopsError("the document has no SOPS metadata (no sops.mac)")
    groups = section.get("key_groups")
    keys = [key for group in groups if isinstance(group, dict) for key in _keys_of(group)] \
        if isinstance(groups, list) else _keys_of(section)
    try:
        threshold = int(section.get("shamir_threshold") or 0)
    except (TypeError, ValueError) as exc:
        raise SopsError("sops.shamir_threshold is not a number") from exc
    return Metadata(
        keys=tuple(keys), mac=_text(section.get("mac")), lastmodified=_text(section.get("lastmodified")),
        unencrypted_suffix=_text(section.get("unencrypted_suffix")),
        encrypted_suffix=_text(section.get("encrypted_suffix")),
        unencrypted_regex=_text(section.get("unencrypted_regex")),
        encrypted_regex=_text(section.get("encrypted_regex")),
        mac_only_encrypted=bool(section.get("mac_only_encrypted")),
        shamir_threshold=threshold, groups=len(groups) if isinstance(groups, list) else 1)


def _any_matches(pattern: str, path: list[str]) -> bool:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise SopsError(f"sops metadata has an invalid regular expression {pattern!r}: {exc}") from exc
    return any(compiled.search(part) for part in path)


def should_be_encrypted(meta: Metadata, path: list[str]) -> bool:
    """Whether the value at `path` is encrypted under the document's rules (SOPS' order)."""
    encrypted = True
    if meta.unencrypted_suffix and any(p.endswith(meta.unencrypted_suffix) for p in path):
        encrypted = False
    if meta.encrypted_suffix:
        encrypted = any(p.endswith(meta.encrypted_suffix) for p in path)
    if meta.unencrypted_regex and _any_matches(meta.unencrypted_regex, path):
        encrypted = False
    if meta.encrypted_regex:
        encrypted = _any_matches(meta.encrypted_regex, path)
    return encrypted


Leaf = Callable[[Any, list[str]], Any]


def _walk(value: Any, path: list[str], leaf: Leaf) -> Any:
    if isinstance(value, dict):
        return {key: _walk(item, [*path, str(key)], leaf) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, path, leaf) for item in value]
    if value is None:
        return None
    return leaf(value, path)


@dataclass(frozen=True, slots=True)
class Decrypted:
    """A decrypted tree, the MAC computed over it, and each value that was encrypted (by path)."""

    tree: dict[str, Any]
    mac: str
    secrets: list[tuple[tuple[str, ...], Any]]


def decrypt_tree(tree: dict[str, Any], meta: Metadata, key: bytes) -> Decrypted:
    """The decrypted tree (without its `sops` section), its MAC and the values that were encrypted."""
    digest = hashlib.sha512()
    secrets: list[tuple[tuple[str, ...], Any]] = []
    if meta.mac_only_encrypted:
        digest.update(MAC_ONLY_ENCRYPTED_INIT)

    def leaf(value: Any, path: list[str]) -> Any:
        encrypted = should_be_encrypted(meta, path)
        if encrypted:
            if not isinstance(value, str):
                raise SopsError(f"{':'.join(path)}: expected an encrypted string, "
                                f"found {type(value).__name__}")
            try:
                value = decrypt_value(value, key, ":".join(path) + ":")
            except SopsCipherError as exc:
                raise SopsError(f"{':'.join(path)}: {exc}") from exc
            secrets.append((tuple(path), value))
        if encrypted or not meta.mac_only_encrypted:
            digest.update(mac_bytes(value))
        return value

    body = {k: v for k, v in tree.items() if k != "sops"}
    plain = _walk(body, [], leaf)
    return Decrypted(plain, digest.hexdigest().upper(), secrets)


def verify_mac(meta: Metadata, key: bytes, computed: str) -> None:
    """Raise SopsError unless the stored MAC equals the MAC computed over the decrypted values."""
    try:
        stored = decrypt_value(meta.mac, key, meta.lastmodified) if meta.mac else ""
    except SopsCipherError as exc:
        raise SopsError(f"failed to verify sops data integrity: the MAC does not decrypt ({exc})") from exc
    if stored != computed:
        raise SopsError("failed to verify sops data integrity: the MAC does not match the values "
                        "(the file was edited without sops)")
