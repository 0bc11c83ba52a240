"""The pinned helm v4 installs, lists and uninstalls a tiny chart on kubesim."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
HELM_TIMEOUT = 120  # seconds for one helm command

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: tiny\nversion: 0.1.0\nappVersion: '1.0'\n",
    "values.yaml": "greeting: hello\nreplicas: 1\n",
    "templates/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\n"
        "  labels:\n    app.kubernetes.io/instance: {{ .Release.Name }}\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n"
    ),
    "templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\n"
        "spec:\n  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels: {app: web}\n"
        "  template:\n    metadata:\n      labels: {app: web}\n"
        "    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n"
    ),
}


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    for name, text in CHART.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def _helm(helm: Path, kubeconfig: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "KUBECONFIG": str(kubeconfig),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    result = subprocess.run(
        [str(helm), *args], capture_output=True, text=True, env=env, timeout=HELM_TIMEOUT, check=False
    )
    assert result.returncode == 0, f"helm {' '.join(args)}: {result.stderr}"
    return result


def test_install_list_uninstall(helm, kubeconfig, namespace, chart, tmp_path, sim):
    home = tmp_path / "home"
    _helm(
        helm,
        kubeconfig,
        home,
        "install",
        "demo",
        str(chart),
        "-n",
        namespace,
        "--set",
        "greeting=hi",
        "--wait",
        "--timeout",
        "60s",
    )
    settings = sim.cluster.store.get(("", "configmaps", namespace, "demo-settings"))
    assert settings is not None and settings["data"] == {"greeting": "hi"}
    assert sim.cluster.store.get(("apps", "deployments", namespace, "demo-web")) is not None
    releases = json.loads(_helm(helm, kubeconfig, home, "list", "-n", namespace, "-o", "json").stdout)
    assert [(r["name"], r["status"], r["chart"]) for r in releases] == [("demo", "deployed", "tiny-0.1.0")]

    _helm(helm, kubeconfig, home, "upgrade", "demo", str(chart), "-n", namespace, "--set", "greeting=bye")
    settings = sim.cluster.store.get(("", "configmaps", namespace, "demo-settings"))
    assert settings is not None and settings["data"] == {"greeting": "bye"}

    _helm(helm, kubeconfig, home, "uninstall", "demo", "-n", namespace, "--wait", "--timeout", "60s")
    assert sim.cluster.store.get(("", "configmaps", namespace, "demo-settings")) is None
    assert json.loads(_helm(helm, kubeconfig, home, "list", "-n", namespace, "-o", "json").stdout) == []
