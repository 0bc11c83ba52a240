"""Fixtures for HelmRelease tests: charts packaged by the real helm, served by a loopback HTTP server."""

from __future__ import annotations

import base64
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fluxpush.tools import find_helm
from registry_server import running_registry

EXAMPLE_CHART = (Path(__file__).resolve().parents[2] / "examples" / "gitops-platform" / "charts"
                 / "external-secrets")


@dataclass
class ChartRepo:
    """A folder served over HTTP on 127.0.0.1; `publish` packages a chart version into it."""

    root: Path
    url: str
    requests: list[str] = field(default_factory=list)
    auth: str | None = None  # "user:password" the server demands when set

    def publish(self, source: Path, version: str, *, app_version: str | None = None) -> None:
        """Copy `source`, set its version, `helm package` it here and re-index the repository."""
        work = self.root.parent / f"work-{source.name}-{version}"
        shutil.copytree(source, work / source.name)
        chart_yaml = work / source.name / "Chart.yaml"
        lines = [f"version: {version}" if line.startswith("version:") else line
                 for line in chart_yaml.read_text().splitlines()]
        if app_version:
            lines = [f'appVersion: "{app_version}"' if line.startswith("appVersion:") else line
                     for line in lines]
        chart_yaml.write_text("\n".join(lines) + "\n")
        helm = find_helm().path
        env = {"HOME": str(work), "HELM_CACHE_HOME": str(work / "c"), "HELM_CONFIG_HOME": str(work / "f"),
               "HELM_DATA_HOME": str(work / "d"), "PATH": "/usr/bin:/bin"}
        subprocess.run([helm, "package", str(work / source.name), "-d", str(self.root)], check=True,
                       capture_output=True, env=env)
        subprocess.run([helm, "repo", "index", str(self.root), "--url", self.url], check=True,
                       capture_output=True, env=env)


def _handler(repo: ChartRepo):
    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            repo.requests.append(self.path)
            if repo.auth:
                expected = "Basic " + base64.b64encode(repo.auth.encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
            super().do_GET()

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def chart_repo(tmp_path: Path) -> Iterator[ChartRepo]:
    """An HTTP chart repository on loopback, empty until `publish`."""
    root = tmp_path / "chart-repo"
    root.mkdir()
    repo = ChartRepo(root, "")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_handler(repo), directory=str(root)))
    repo.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield repo
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def example_chart() -> Path:
    """The example repository's external-secrets chart folder."""
    return EXAMPLE_CHART


HELMRELEASE = "infrastructure/external-secrets/helmrelease.yaml"
HELMREPOSITORY = "infrastructure/external-secrets/helmrepository.yaml"


def use_helm_repository(repo: Path, url: str, version: str) -> None:
    """Point the example HelmRelease at its HelmRepository (served at `url`) with `version`."""
    release = repo / HELMRELEASE
    text = release.read_text()
    old = ("      chart: ./charts/external-secrets\n      reconcileStrategy: Revision\n      sourceRef:\n"
           "        kind: GitRepository\n        name: gitops-platform\n")
    assert old in text
    release.write_text(text.replace(old, f'      chart: external-secrets\n      version: "{version}"\n'
                                         "      sourceRef:\n        kind: HelmRepository\n"
                                         "        name: external-secrets\n"))
    source = repo / HELMREPOSITORY
    source.write_text(source.read_text().replace("https://charts.external-secrets.io", url))


@dataclass
class OciRegistry:
    """Debian's docker-registry on loopback; `push` packages a chart version and pushes it."""

    url: str  # oci://127.0.0.1:PORT/charts
    work: Path

    def push(self, source: Path, version: str) -> None:
        """Package `source` at `version` and `helm push` it (plain HTTP)."""
        local = ChartRepo(self.work / f"pkg-{version}", "")
        local.root.mkdir(parents=True)
        local.url = "http://unused"
        local.publish(source, version)
        helm = find_helm().path
        env = {"HOME": str(self.work), "HELM_CACHE_HOME": str(self.work / "c"),
               "HELM_CONFIG_HOME": str(self.work / "f"), "HELM_DATA_HOME": str(self.work / "d"),
               "PATH": "/usr/bin:/bin"}
        archive = next(local.root.glob("*.tgz"))
        subprocess.run([helm, "push", str(archive), self.url, "--plain-http"], check=True,
                       capture_output=True, env=env, timeout=60)


@pytest.fixture
def oci_registry(tmp_path: Path) -> Iterator[OciRegistry]:
    """A fresh registry process (the `docker-registry` Debian package) serving plain HTTP on loopback."""
    with running_registry(tmp_path) as host:
        yield OciRegistry(f"oci://{host}/charts", tmp_path / "oci-work")


def run_release_node(sandbox, ref, *, apply: bool = True):
    """The HelmRelease node's result: the whole example on the first run (it creates the release's
    namespace), then only that node, which keeps the tests fast."""
    from fluxpush.app.reconcilers import default_reconcilers
    from fluxpush.engine.run import run_nodes
    from fluxpush.planning.options import EngineOptions

    first = sandbox.client.get("v1", "Namespace", ref.namespace) is None
    run = run_nodes(sandbox.discover(), sandbox.client, EngineOptions(), apply=apply,
                    reconcilers=default_reconcilers(), targets=None if first else [ref])
    return next(r for r in run.results if r.node == ref)
