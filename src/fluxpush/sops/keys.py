"""Keys that open a SOPS document's data key: age identities, AWS KMS, PGP.

Where keys come from is decided by the caller (`KeyRing.with_age` and friends); this module only
knows how each master-key entry of the metadata is opened, in SOPS' default order (age, PGP, then
the cloud KMSes). AWS KMS uses the run's AWS credentials (boto3's chain); `role`, `context` and
the region of the ARN are honoured as SOPS does.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fluxpush.errors import FluxpushError
from fluxpush.redact import register_secret
from fluxpush.runner import run_command
from fluxpush.sops.tree import MasterKey, Metadata, SopsError

DATA_KEY_SIZE = 32
DECRYPTION_ORDER = ("age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault")


class MissingKeyError(SopsError):
    """No key this run has opens the document: `recipients` says which keys would."""

    def __init__(self, message: str, recipients: str) -> None:
        super().__init__(message)
        self.recipients = recipients


def parse_age_identities(text: str, *, where: str) -> list[Any]:
    """Every `AGE-SECRET-KEY-1…` line of an age key file (comments and blank lines skipped)."""
    import pyrage  # imported here: only runs that decrypt with age need it

    identities = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        register_secret(line)
        try:
            identities.append(pyrage.x25519.Identity.from_str(line))
        except Exception as exc:  # pyrage raises its own IdentityError types
            raise SopsError(f"{where}: line {number} is not an age X25519 identity "
                            "(AGE-SECRET-KEY-1…)") from exc
    return identities


def _age_open(entry: dict[str, Any], identities: list[Any]) -> bytes | None:
    import pyrage

    enc = str(entry.get("enc") or "")
    try:
        return bytes(pyrage.decrypt(enc.encode(), identities))
    except Exception:  # a stanza for another identity: try the next master key
        return None


def _kms_open(entry: dict[str, Any], session_factory: Callable[[], Any]) -> bytes | None:
    arn = str(entry.get("arn") or "")
    parts = arn.split(":")
    region = parts[3] if len(parts) > 3 and parts[3] else None
    try:
        blob = base64.b64decode(str(entry.get("enc") or ""), validate=True)
    except (binascii.Error, ValueError):
        return None
    session = session_factory()
    role = entry.get("role")
    if role:
        creds = session.client("sts", region_name=region).assume_role(
            RoleArn=str(role), RoleSessionName="fluxpush-sops")["Credentials"]
        import boto3

        session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                        aws_secret_access_key=creds["SecretAccessKey"],
                                        aws_session_token=creds["SessionToken"])
    context = entry.get("context") if isinstance(entry.get("context"), dict) else None
    kwargs: dict[str, Any] = {"CiphertextBlob": blob, "KeyId": arn}
    if context:
        kwargs["EncryptionContext"] = {str(k): str(v) for k, v in context.items()}
    try:
        answer = session.client("kms", region_name=region).decrypt(**kwargs)
    except Exception:
        return None
    return bytes(answer["Plaintext"])


def _default_session() -> Any:
    import boto3

    return boto3.session.Session()


def _pgp_open(entry: dict[str, Any], armored_keys: list[str]) -> bytes | None:
    enc = str(entry.get("enc") or "")
    with tempfile.TemporaryDirectory(prefix="fluxpush-gnupg-") as home:
        env = {"GNUPGHOME": home}
        out = os.path.join(home, "data-key")
        try:
            for armored in armored_keys:
                run_command(["gpg", "--batch", "--quiet", "--import"], env=env, stdin=armored, timeout=60,
                            what="gpg could not import a PGP key")
            run_command(["gpg", "--batch", "--quiet", "--output", out, "--decrypt"], env=env, stdin=enc,
                        timeout=60, what="gpg could not decrypt the data key")
            with open(out, "rb") as handle:
                return handle.read() or None
        except (FluxpushError, OSError):  # not this key's stanza, or no gpg: try the next master key
            return None


@dataclass
class KeyRing:
    """The keys one decryption may use; empty means "values stay masked"."""

    age: list[Any] = field(default_factory=list)
    pgp: list[str] = field(default_factory=list)  # armored private keys
    aws_kms: bool = False  # whether KMS entries may be opened with the run's AWS credentials
    aws_session: Callable[[], Any] = _default_session
    sources: list[str] = field(default_factory=list)  # where the keys came from, for messages

    def merged(self, other: KeyRing) -> KeyRing:
        """This ring's keys and `other`'s."""
        return KeyRing([*self.age, *other.age], [*self.pgp, *other.pgp], self.aws_kms or other.aws_kms,
                       self.aws_session, [*self.sources, *other.sources])

    def _open(self, key: MasterKey) -> bytes | None:
        if key.kind == "age" and self.age:
            return _age_open(key.entry, self.age)
        if key.kind == "pgp" and self.pgp:
            return _pgp_open(key.entry, self.pgp)
        if key.kind == "kms" and self.aws_kms:
            return _kms_open(key.entry, self.aws_session)
        return None

    def data_key(self, meta: Metadata) -> bytes:
        """The document's data key; MissingKeyError when no key of this ring opens it."""
        if meta.groups > 1 and meta.shamir_threshold > 1:
            raise SopsError("Shamir key groups (shamir_threshold > 1) are not supported")
        for kind in DECRYPTION_ORDER:
            for key in (k for k in meta.keys if k.kind == kind):
                opened = self._open(key)
                if opened is not None and len(opened) == DATA_KEY_SIZE:
                    return opened
        have = ", ".join(self.sources) or "no SOPS key was given"
        raise MissingKeyError(f"no key opens it (encrypted for {meta.recipients()}; keys: {have})",
                              meta.recipients())
