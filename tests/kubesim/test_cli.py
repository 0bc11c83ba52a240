"""`python -m kubesim serve` as a subprocess: URL and kubeconfig on stdout, kubectl against it, --state."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


class Served:
    """A running `python -m kubesim serve` and what it printed."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kubesim", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip().removeprefix("kubesim serving ")
        self.kubeconfig = Path(self.process.stdout.readline().strip().removeprefix("kubeconfig: "))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


def _kubectl(binary: Path, served: Served, cache: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(binary), "--kubeconfig", str(served.kubeconfig), "--cache-dir", str(cache), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_serve_then_kubectl_then_state_survives_restart(kubectl_binary, tmp_path):
    state, log = tmp_path / "state.json", tmp_path / "requests.jsonl"
    flags = (
        "--kubeconfig-out",
        str(tmp_path / "kc"),
        "--state",
        str(state),
        "--request-log",
        str(log),
        "--no-controllers",
        "--latency",
        "1",
    )
    first = Served(*flags)
    try:
        assert first.url.startswith("https://127.0.0.1:") and first.kubeconfig == tmp_path / "kc"
        assert first.kubeconfig.stat().st_mode & 0o777 == 0o600
        out = _kubectl(
            kubectl_binary,
            first,
            tmp_path / "c1",
            "apply",
            "--server-side",
            "-f",
            "-",
            stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept, namespace: default}\n"
            "data: {a: '1'}\n",
        )
        assert out.strip() == "configmap/kept serverside-applied"
    finally:
        assert first.stop() == 0
    assert '"kept"' in state.read_text(encoding="utf-8")
    verbs = {json.loads(line)["verb"] for line in log.read_text(encoding="utf-8").splitlines()}
    assert {"get", "patch"} <= verbs

    second = Served(*flags)
    try:
        data = json.loads(
            _kubectl(kubectl_binary, second, tmp_path / "c2", "get", "cm", "kept", "-o", "json")
        )
        assert data["data"] == {"a": "1"}
    finally:
        assert second.stop() == 0
