"""Where a run's SOPS keys come from, as kustomize-controller and the sops CLI find them.

- Run-wide: `--sops-age-key-file FILE`, `$SOPS_AGE_KEY` (identities, one a line),
  `$SOPS_AGE_KEY_FILE`, the sops CLI's default file (`$XDG_CONFIG_HOME/sops/age/keys.txt`, else
  `~/.config/sops/age/keys.txt`), and the action's `sops-age-key` input. AWS KMS
  entries are opened with the run's AWS credentials.
- Per Kustomization: `spec.decryption.secretRef`, read from the live cluster in the Kustomization's
  namespace: entries named `*.agekey` are age identities, `*.asc` armored PGP keys, `sops.aws-kms`
  AWS credentials (`aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fluxpush.errors import UsageError
from fluxpush.flux.model import Kustomization, ObjectLookup
from fluxpush.redact import register_secret
from fluxpush.sops.keys import KeyRing, parse_age_identities
from fluxpush.sops.resources import ResourceDecryptor
from fluxpush.sops.tree import SopsError
from fluxpush.yamldoc import load_documents

AGE_EXT, PGP_EXT, AWS_KMS_FILE = ".agekey", ".asc", "sops.aws-kms"



def default_age_key_file(env: Mapping[str, str]) -> Path:
    """The sops CLI's default age key file: `$XDG_CONFIG_HOME/sops/age/keys.txt` (~/.config)."""
    config = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(config) / "sops" / "age" / "keys.txt"


def run_keys(age_key_file: str | None, env: Mapping[str, str], *,
             age_key: str | None = None) -> KeyRing:
    """The run-wide keys; a key that cannot be read is a usage error (its text is never shown).

    `env` is the environment the face was given ($SOPS_AGE_KEY, $SOPS_AGE_KEY_FILE, the sops
    CLI's default file under $XDG_CONFIG_HOME or $HOME); `age_key` is the action's `sops-age-key` input.
    """
    ring = KeyRing(aws_kms=True, sources=["the run's AWS credentials (KMS)"])
    texts: list[tuple[str, str]] = [("input sops-age-key", age_key)] if age_key else []
    if env.get("SOPS_AGE_KEY", "").strip():
        texts.append(("$SOPS_AGE_KEY", env["SOPS_AGE_KEY"]))
    for label, path in (("--sops-age-key-file", age_key_file),
                        ("$SOPS_AGE_KEY_FILE", env.get("SOPS_AGE_KEY_FILE"))):
        if path:
            try:
                texts.append((f"{label} {path}", Path(path).read_text(encoding="utf-8")))
            except OSError as exc:
                raise UsageError(f"{label}: cannot read {path}: {exc.strerror}") from exc
    default = default_age_key_file(env)
    if default.is_file():  # where the sops CLI looks by default
        texts.append((str(default), default.read_text(encoding="utf-8", errors="replace")))
    for label, text in texts:
        try:
            ring.age.extend(parse_age_identities(text, where=label))
        except SopsError as exc:
            raise UsageError(str(exc)) from exc
        ring.sources.append(label)
    return ring


def _aws_session(text: str) -> Callable[[], Any]:
    docs = load_documents(text, AWS_KMS_FILE)
    creds = docs[0].data if docs and isinstance(docs[0].data, dict) else {}

    def session() -> Any:
        import boto3

        return boto3.session.Session(
            aws_access_key_id=creds.get("aws_access_key_id"),
            aws_secret_access_key=creds.get("aws_secret_access_key"),
            aws_session_token=creds.get("aws_session_token"))

    return session


def secret_keys(secret: dict[str, Any], where: str) -> KeyRing:
    """The keys a decryption Secret holds (Flux's naming rules)."""
    ring = KeyRing(sources=[where])
    for name, value in (secret.get("data") or {}).items():
        try:
            text = base64.b64decode(str(value), validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise SopsError(f"{where}: entry {name!r} is not valid base64 text") from exc
        if name.endswith(AGE_EXT):
            ring.age.extend(parse_age_identities(text, where=f"{where} entry {name!r}"))
        elif name.endswith(PGP_EXT):
            register_secret(text)
            ring.pgp.append(text)
        elif name == AWS_KMS_FILE:
            ring.aws_kms, ring.aws_session = True, _aws_session(text)
    return ring


@dataclass(frozen=True)
class SopsKeys:
    """The run-wide keys and how to read a Kustomization's decryption Secret from the cluster."""

    ring: KeyRing
    live: ObjectLookup | None = None

    def decryptor(self, ks: Kustomization) -> ResourceDecryptor:
        """A decryptor for one node: run-wide keys plus its `secretRef` keys."""
        node = str(ks.ref)
        secret_ref = (ks.decryption or {}).get("secretRef") or {}
        name = secret_ref.get("name") if isinstance(secret_ref, dict) else None
        if not name:
            return ResourceDecryptor(self.ring, node=node)
        where = f"decryption Secret {ks.ref.namespace}/{name}"
        if self.live is None:
            return ResourceDecryptor(self.ring, f"{where} is read from the cluster, and no cluster was given",
                                     node=node)
        secret = self.live("Secret", ks.ref.namespace, str(name))
        if secret is None:
            return ResourceDecryptor(self.ring, f"{where} was not found in the cluster", node=node)
        try:
            return ResourceDecryptor(self.ring.merged(secret_keys(secret, where)), node=node)
        except SopsError as exc:
            return ResourceDecryptor(self.ring, str(exc), node=node)


NO_KEYS = SopsKeys(KeyRing(sources=[]))
