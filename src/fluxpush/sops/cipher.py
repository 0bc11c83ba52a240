"""SOPS' value cipher: AES-256-GCM per value, `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.

Each value is encrypted with the document's data key; the additional authenticated data is the
value's path in the tree (`stringData:password:`), so a value moved elsewhere fails to decrypt.
The `type` says how the plaintext reads back (str, int, float, bool, bytes, time, comment), as
getsops/sops `aes/cipher.go` does.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_ENC = re.compile(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]")
_GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")


class SopsCipherError(ValueError):
    """A value that is not a well-formed SOPS value, or that this data key cannot open."""


@dataclass(frozen=True, slots=True)
class EncryptedValue:
    """The parts of one `ENC[...]` value."""

    data: bytes
    iv: bytes
    tag: bytes
    datatype: str


def parse_value(text: str) -> EncryptedValue:
    """Split an `ENC[...]` string into its parts."""
    match = _ENC.match(text)
    if match is None:
        raise SopsCipherError("the value is not in SOPS' ENC[AES256_GCM,...] format")
    try:
        data, iv, tag = (base64.b64decode(part, validate=True) for part in match.groups()[:3])
    except (binascii.Error, ValueError) as exc:
        raise SopsCipherError("the value's data, iv or tag is not valid base64") from exc
    return EncryptedValue(data, iv, tag, match.group(4))


def _typed(plain: bytes, datatype: str) -> Any:
    text = plain.decode("utf-8", "replace")
    try:
        if datatype in ("str", "comment", "time"):
            return text
        if datatype == "int":
            return int(text)
        if datatype == "float":
            return float(text)
        if datatype == "bytes":
            return plain
    except ValueError as exc:
        raise SopsCipherError(f"the decrypted value is not a valid {datatype}") from exc
    if datatype == "bool" and text in _GO_TRUE + _GO_FALSE:
        return text in _GO_TRUE
    raise SopsCipherError(f"unknown SOPS value type {datatype!r}")


def decrypt_value(text: str, key: bytes, additional_data: str) -> Any:
    """The plaintext of one SOPS value; `""` stays `""` (SOPS never encrypts empty values)."""
    if text == "":
        return ""
    value = parse_value(text)
    if len(value.iv) < 8:
        raise SopsCipherError("the value's iv is too short")
    try:
        plain = AESGCM(key).decrypt(value.iv, value.data + value.tag, additional_data.encode())
    except InvalidTag as exc:
        raise SopsCipherError("the value does not decrypt with the data key (wrong key, or the "
                              "value was changed or moved)") from exc
    return _typed(plain, value.datatype)


def mac_bytes(value: Any) -> bytes:
    """How SOPS feeds a plaintext value into the MAC (`sops.ToBytes`)."""
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, bytes):
        return value
    if isinstance(value, float):
        return _go_float(value).encode()
    return str(value).encode()


def _go_float(value: float) -> str:
    """Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest digits, never an exponent."""
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(value, "f") if abs(value) >= 1 else f"{value:.{_decimals(text)}f}"
    return text.removesuffix(".0")


def _decimals(text: str) -> int:
    mantissa, _, exponent = text.lower().partition("e")
    digits = len(mantissa.replace("-", "").replace(".", "")) - 1
    return max(0, digits - int(exponent))
