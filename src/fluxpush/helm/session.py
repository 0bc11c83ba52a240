"""One helm binary session: a private temp folder with a kubeconfig holding the run's credentials.

The folder is made by `mkdtemp` (mode 0700) and the kubeconfig written with mode 0600; both are
removed when the session closes. helm's cache/config/data homes point inside the folder, so a run
never reads or writes the user's helm settings. Every process goes through `runner.run_command`.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from fluxpush.kube import KubeClient
from fluxpush.redact import register_secret
from fluxpush.runner import Completed, run_command
from fluxpush.tools import Tool, find_helm

POST_RENDERER = "fluxpush-post-renderer"  # the plugin name helm's --post-renderer refers to
_BEARER = "BearerToken"
# The helm verbs that change a cluster: refused once the run is interrupted.
HELM_WRITES = frozenset({"upgrade", "install", "uninstall", "rollback", "test"})


def kubeconfig_for(client: KubeClient) -> dict[str, Any]:
    """A kubeconfig reaching the client's cluster with its current credentials (never logged)."""
    configuration = client.connection.configuration
    if configuration.refresh_api_key_hook is not None:
        configuration.refresh_api_key_hook(configuration)
    cluster: dict[str, Any] = {"server": configuration.host}
    ca_data = getattr(configuration, "ca_cert_data", None)
    if ca_data:
        cluster["certificate-authority-data"] = base64.b64encode(
            ca_data.encode() if isinstance(ca_data, str) else ca_data).decode()
    elif configuration.ssl_ca_cert:
        cluster["certificate-authority"] = configuration.ssl_ca_cert
    if not configuration.verify_ssl:
        cluster["insecure-skip-tls-verify"] = True
    user: dict[str, Any] = {}
    token = (configuration.api_key or {}).get(_BEARER)
    if token:
        user["token"] = token.removeprefix("Bearer ").strip()
        register_secret(user["token"])
    if configuration.cert_file and configuration.key_file:
        user["client-certificate"] = configuration.cert_file
        user["client-key"] = configuration.key_file
    if client.connection.impersonate:
        user["as"] = client.connection.impersonate  # helm sends Impersonate-User, as the client does
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": "fluxpush",
        "clusters": [{"name": "fluxpush", "cluster": cluster}],
        "users": [{"name": "fluxpush", "user": user}],
        "contexts": [{"name": "fluxpush", "context": {"cluster": "fluxpush", "user": "fluxpush"}}],
    }


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


class HelmSession:
    """Runs helm with isolated homes and (with a client) a private kubeconfig; use as a context manager."""

    def __init__(self, client: KubeClient | None = None, tool: Tool | None = None) -> None:
        self.tool = tool or find_helm()
        self.dir = Path(tempfile.mkdtemp(prefix="fluxpush-helm-"))
        self.env = {
            "HOME": str(self.dir),
            "HELM_CACHE_HOME": str(self.dir / "cache"),
            "HELM_CONFIG_HOME": str(self.dir / "config"),
            "HELM_DATA_HOME": str(self.dir / "data"),
            "HELM_PLUGINS": str(self.dir / "plugins"),
            "KUBECONFIG": str(self.dir / "kubeconfig"),
        }
        if client is not None:
            _write_private(self.dir / "kubeconfig", yaml.safe_dump(kubeconfig_for(client)))
        self._stop = client.stop if client is not None else None
        self._files = 0

    def __enter__(self) -> HelmSession:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the folder, the kubeconfig with it."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, *args: str, node: str | None = None, what: str = "helm failed",
            timeout: float | None = 600) -> Completed:
        """`helm ARGS…` in this session's folder, with the runner's minimal environment plus the
        session's homes and private kubeconfig; a failure raises `RenderError` with helm's stderr. Once
        the run is interrupted, a helm command that writes to the cluster is refused (`WritesStopped`)."""
        if args and args[0] in HELM_WRITES and self._stop is not None and self._stop.stopped:
            raise self._stop.refusal(f"helm {args[0]}")
        return run_command([*self.tool.argv, *args], cwd=str(self.dir), env=self.env, node=node, what=what,
                           timeout=timeout)

    def write_values(self, values: dict[str, Any]) -> Path:
        """Write values to a private file for `-f` (JSON is YAML)."""
        self._files += 1
        path = self.dir / f"values-{self._files}.json"
        _write_private(path, json.dumps(values))
        return path

    def post_renderer(self, config: dict[str, Any]) -> list[str]:
        """Install fluxpush as helm's post-renderer plugin for `config`; the helm flags that use it."""
        self._files += 1
        name = f"{POST_RENDERER}-{self._files}"
        plugin = self.dir / "plugins" / name
        plugin.mkdir(parents=True)
        _write_private(plugin / "config.json", json.dumps(config))
        manifest = {
            "apiVersion": "v1", "type": "postrenderer/v1", "name": name, "version": "0.1.0",
            "runtime": "subprocess",
            "runtimeConfig": {"platformCommand": [{
                "command": sys.executable,
                "args": ["-m", "fluxpush.helm.postrender", str(plugin / "config.json")],
            }]},
        }
        (plugin / "plugin.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
        return ["--post-renderer", name]
