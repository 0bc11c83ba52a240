"""The hash-pinned lock files cover every dependency pyproject.toml declares (supply chain)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def pins(lock: str) -> dict[str, str]:
    """name → pinned version of a pip-compile lock file; each pin must carry a hash."""
    text = (ROOT / lock).read_text()
    found = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = PIN.match(block)
        if match:
            assert "--hash=sha256:" in block, f"{lock}: {match[1]} has no hash; run make lock"
            found[canonicalize_name(match[1])] = match[2]
    return found


def declared(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    if extra:
        names += project["optional-dependencies"][extra]
    return [Requirement(name) for name in names]


def problems(lock: str, requirements: list[Requirement]) -> list[str]:
    """What `lock` lacks for `requirements`: a missing name or a pin outside the specifier."""
    pinned = pins(lock)
    found = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name not in pinned:
            found.append(f"{requirement.name} is in pyproject.toml but not in {lock}: run make lock")
        elif not requirement.specifier.contains(pinned[name], prereleases=True):
            found.append(f"{lock} pins {requirement.name}=={pinned[name]}, outside {requirement.specifier} "
                         "in pyproject.toml: run make lock")
    return found


@pytest.mark.parametrize(("lock", "extra"), [("requirements.lock", None), ("requirements-test.lock", "test")])
def test_every_declared_dependency_is_pinned_in_the_lock(lock, extra):
    assert problems(lock, declared(extra)) == []


def test_a_dependency_added_without_relocking_is_caught():
    added = [Requirement("surely-not-locked-package>=1"), Requirement("PyYAML<1")]
    assert problems("requirements.lock", added) == [
        "surely-not-locked-package is in pyproject.toml but not in requirements.lock: run make lock",
        f"requirements.lock pins PyYAML=={pins('requirements.lock')['pyyaml']}, outside <1 in "
        "pyproject.toml: run make lock",
    ]


def test_the_build_backend_is_pinned_too():
    pinned = pins("requirements-build.lock")
    for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]:
        name = canonicalize_name(Requirement(requirement).name)
        assert name in pinned, f"{requirement} is not in requirements-build.lock: run make lock"
