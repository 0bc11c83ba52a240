"""Shared fixtures: the example repository, the shared corpus, and a CLI runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from fluxpush.cli import main

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_REPO = PROJECT_ROOT / "examples" / "gitops-platform"
# Real Flux repositories kept beside the checkout (../shared/corpus), read in place.
CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys):
    """Run `fluxpush ARGS…` in-process; returns exit code, stdout and stderr."""

    def run(*args: str) -> CliResult:
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def example_repo() -> Path:
    """examples/gitops-platform, read in place (copy it before changing anything)."""
    return EXAMPLE_REPO


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside this checkout")
    return CORPUS
