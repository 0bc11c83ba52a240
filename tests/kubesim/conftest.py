"""Fixtures: one running KubeSim per session, its kubeconfig, real kubectl binaries, unique namespaces."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubesim import KubeSim, Options
from kubesim.resources import Resources, WriteOptions

USER_AGENT = "kubesim-tests/1.0 (python)"  # the raw client's; the server derives fieldManager from it
COMMAND_TIMEOUT = 60  # seconds for one kubectl/helm run; a hang means a server bug, not slowness


def _pinned_kubectl() -> Path | None:
    override = os.environ.get("FLUXPUSH_KUSTOMIZE", "")
    if Path(override).name.startswith("kubectl") and os.access(override, os.X_OK):
        return Path(override)
    folder = Path(os.environ.get("FLUXPUSH_TOOLS_DIR") or Path(sys.prefix) / "share" / "fluxpush" / "bin")
    candidate = folder / "kubectl"
    return candidate if os.access(candidate, os.X_OK) else None


def kubectl_binaries() -> list[Path]:
    """The pinned kubectl, and the machine's own kubectl when it is a different file."""
    found: list[Path] = []
    pinned = _pinned_kubectl()
    if pinned is not None:
        found.append(pinned)
    on_path = shutil.which("kubectl")
    if on_path and (pinned is None or Path(on_path).resolve() != pinned.resolve()):
        found.append(Path(on_path))
    return found


@pytest.fixture(scope="session")
def helm() -> Path:
    """The pinned helm (FLUXPUSH_HELM, the tools folder, then PATH); skips when there is none."""
    override = os.environ.get("FLUXPUSH_HELM")
    folder = Path(os.environ.get("FLUXPUSH_TOOLS_DIR") or Path(sys.prefix) / "share" / "fluxpush" / "bin")
    found = override or (
        str(folder / "helm") if os.access(folder / "helm", os.X_OK) else shutil.which("helm")
    )
    if not found:
        pytest.skip("helm not installed (make tools)")
    return Path(found)


@pytest.fixture(scope="session")
def sim() -> Iterator[KubeSim]:
    """A running KubeSim with fast simulated controllers, shared by the whole session."""
    with KubeSim(Options(ready_delay=0.2, crd_delay=0.1, cluster_name="kubesim-test")) as server:
        yield server


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kubesim-session")


@pytest.fixture(scope="session")
def kubeconfig(sim: KubeSim, session_dir: Path) -> Path:
    """A kubeconfig for `sim` (written by `sim.write_kubeconfig`)."""
    return sim.write_kubeconfig(session_dir / "kubeconfig")


@dataclass
class Kubectl:
    """One kubectl binary wired to the session's server, cache dir and an empty HOME."""

    binary: Path
    kubeconfig: Path
    cache_dir: Path
    home: Path

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = COMMAND_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl; with `check`, fail the test (showing stderr) on a non-zero exit."""
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.home), "KUBECONFIG": str(self.kubeconfig)}
        result = subprocess.run(
            [str(self.binary), "--cache-dir", str(self.cache_dir), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def apply(
        self, manifest: dict[str, Any] | str, *flags: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """`kubectl apply --server-side -f -` of one manifest."""
        text = manifest if isinstance(manifest, str) else yaml.safe_dump(manifest)
        return self.run("apply", "--server-side", *flags, "-f", "-", stdin=text, check=check)

    def get(self, *args: str) -> dict[str, Any]:
        """`kubectl get … -o json` parsed."""
        return json.loads(self.run("get", *args, "-o", "json").stdout)


def _binary_id(path: Path) -> str:
    return "pinned" if path == _pinned_kubectl() else "machine"


@pytest.fixture(scope="session")
def kubectl_binary() -> Path:
    """The pinned kubectl (or the machine's when the pinned one is missing)."""
    found = kubectl_binaries()
    if not found:
        pytest.skip("no kubectl (make tools)")
    return found[0]


@pytest.fixture(scope="session", params=kubectl_binaries(), ids=_binary_id)
def kubectl(request: pytest.FixtureRequest, kubeconfig: Path, session_dir: Path) -> Kubectl:
    """Each available kubectl (pinned v1.35 and the machine's), one discovery cache per binary."""
    return _kubectl_for(request.param, kubeconfig, session_dir)


@pytest.fixture(scope="session")
def pinned_kubectl(kubectl_binary: Path, kubeconfig: Path, session_dir: Path) -> Kubectl:
    """Only the first kubectl: for tests about the server's behaviour rather than kubectl versions."""
    return _kubectl_for(kubectl_binary, kubeconfig, session_dir)


def _kubectl_for(binary: Path, kubeconfig: Path, session_dir: Path) -> Kubectl:
    tag = _binary_id(binary)
    home = session_dir / f"home-{tag}"
    home.mkdir(exist_ok=True)
    return Kubectl(binary, kubeconfig, session_dir / f"cache-{tag}", home)


@pytest.fixture
def namespace(sim: KubeSim) -> str:
    """A fresh namespace per test (created in-process; the tests are about what happens inside it)."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    rtype = sim.cluster.registry.get("", "v1", "namespaces")
    assert rtype is not None
    Resources(sim.cluster).create(
        rtype,
        "",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        WriteOptions(manager="tests"),
    )
    return name


class Client:
    """A raw HTTPS client (http.client) trusting the server's CA, for wire-level assertions."""

    def __init__(self, sim: KubeSim) -> None:
        self.sim = sim
        self.context = ssl.create_default_context(cadata=sim.ca_pem)

    def connection(self) -> http.client.HTTPSConnection:
        """A new keep-alive connection."""
        return http.client.HTTPSConnection("127.0.0.1", self.sim.port, context=self.context, timeout=30)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """One request; returns (status, headers, decoded JSON body or text)."""
        conn = self.connection()
        try:
            return self.send(conn, method, path, body, headers, token)
        finally:
            conn.close()

    def send(
        self,
        conn: http.client.HTTPSConnection,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """One request on an existing connection."""
        all_headers = {
            "Authorization": f"Bearer {token or self.sim.token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        raw = response.read()
        content_type = response.getheader("Content-Type", "")
        data: Any = json.loads(raw) if raw and content_type.startswith("application/json") else raw.decode()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data


@pytest.fixture(scope="session")
def client(sim: KubeSim) -> Client:
    """A raw HTTPS client for the session server."""
    return Client(sim)


@pytest.fixture(scope="session")
def client_for() -> type[Client]:
    """`client_for(other_sim)`: a raw HTTPS client for a server a test module started itself."""
    return Client
