"""Fixtures of the trust suite: one baseline per worker, a fresh world per scenario."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trust.harness import Baseline, World, build_baseline, world


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory, example_repo: Path) -> Baseline:
    """The example repository (with canaries) applied once; its store saved for every scenario."""
    return build_baseline(example_repo, tmp_path_factory.mktemp("trust"))


@pytest.fixture
def trust_world(baseline: Baseline) -> Iterator[World]:
    """A fresh kubesim holding the baseline, and a fresh copy of the repository."""
    with world(baseline) as fresh:
        yield fresh
