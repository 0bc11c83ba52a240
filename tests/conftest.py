"""Shared fixtures: the example repository, the shared corpus, a CLI runner, and a sandbox cluster
(a real kubesim over HTTPS with a client, and a writable copy of the example repository)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fluxpush.app.reconcilers import default_reconcilers
from fluxpush.cli import main
from fluxpush.engine.run import RunResult, run_nodes
from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.options import EngineOptions
from fluxpush.repository.discover import DiscoverOptions, Discovery, discover
from http_receiver import Receiver, start_receiver
from kubesim import KubeSim, Options

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


@dataclass
class Sandbox:
    """A running kubesim, a client to it, and the example repository copied to a temp folder."""

    sim: KubeSim
    client: KubeClient
    repo: Path
    _discovery: Discovery | None = None

    def edit(self, path: str, old: str, new: str) -> None:
        """Replace `old` (which must be there) by `new` in a repository file; the next run re-renders."""
        file = self.repo / path
        text = file.read_text()
        assert old in text, f"{old!r} not in {path}"
        file.write_text(text.replace(old, new, 1))
        self._discovery = None

    def discover(self) -> Discovery:
        if self._discovery is None:
            self._discovery = discover(self.repo, DiscoverOptions(cluster_path="clusters/dev"))
        return self._discovery

    def run(self, *, apply: bool, **options: object) -> RunResult:
        return run_nodes(self.discover(), self.client, EngineOptions(**options), apply=apply,
                         reconcilers=default_reconcilers())

    def writes(self) -> list[str]:
        """Persisted writes the cluster saw since the last `clear()` (dry runs excluded)."""
        return [f"{r.method} {r.path}" for r in self.sim.requests.entries()
                if r.method in ("POST", "PUT", "PATCH", "DELETE") and r.query.get("dryRun") != "All"]


@pytest.fixture
def sandbox(tmp_path: Path, example_repo: Path) -> Iterator[Sandbox]:
    repo = tmp_path / "repo"
    shutil.copytree(example_repo, repo)
    with KubeSim(Options(cluster_name="sandbox", ready_delay=0.05, crd_delay=0.05)) as sim, \
            KubeClient(connect_sandbox(sim)) as client:
        yield Sandbox(sim, client, repo)


@pytest.fixture
def make_receiver() -> Iterator[Any]:
    """Start receivers on demand; all stop at the end of the test."""
    started: list[Receiver] = []

    def start() -> Receiver:
        receiver = start_receiver()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def receiver(make_receiver: Any) -> Receiver:
    return make_receiver()


# A GitHub App's key pair, for the fake GitHub and the App authentication tests.
@pytest.fixture(scope="session")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def app_pem(app_key) -> str:
    return app_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


class ManualClock:
    """A wall clock that only moves when a test says so (token expiry, refresh margins)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(autouse=True)
def _forget_secret_values() -> Iterator[None]:
    """Each test starts with an empty `fluxpush.redact` registry (values are process-wide)."""
    from fluxpush.redact import REGISTRY

    REGISTRY.clear()
    yield
    REGISTRY.clear()
