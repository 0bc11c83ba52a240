"""A cluster dump and the CLI pointed at a sandbox (kubesim + a repository copy), for end-to-end
tests that check exit code, output, the whole cluster before and after, and that no Secret value
is printed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECRET_VALUE = "s3cr3t-token-8d2f61"  # never printed, whatever happens
SECRET = f"""apiVersion: v1
kind: Secret
metadata:
  name: app-2-token
stringData:
  token: {SECRET_VALUE}
"""
VOLATILE_META = ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation")
INVENTORY_KEYS = ("entries", "deletionPolicy", "deletionReason", "release", "suspend")


def cluster_dump(sandbox: Any) -> dict[str, Any]:
    """Every object of the cluster by `apiVersion Kind namespace/name`, without server bookkeeping
    (resourceVersion, managedFields, status) and, for inventory records, without the fields every
    attempt rewrites (times, conditions, revisions: a successful node records the new one)."""
    out: dict[str, Any] = {}
    for obj in sandbox.sim.cluster.store.snapshot().values():
        kind, meta = obj["kind"], obj["metadata"]
        if kind in ("Lease", "Event"):
            continue
        clean = {key: value for key, value in obj.items() if key not in ("metadata", "status")}
        clean["metadata"] = {key: value for key, value in meta.items() if key not in VOLATILE_META}
        if (meta.get("labels") or {}).get("fluxpush.io/inventory") == "true":
            clean["data"] = {key: obj["data"].get(key) for key in INVENTORY_KEYS}
        out[f"{obj['apiVersion']} {kind} {meta.get('namespace', '')}/{meta['name']}"] = clean
    return out


def inventory(sandbox: Any, kind: str, name: str, namespace: str = "flux-system") -> dict[str, Any] | None:
    """A node's stored inventory record (decoded entries), or None."""
    obj = sandbox.client.get("v1", "ConfigMap", f"fluxpush-inventory-{kind}-{name}", namespace)
    if obj is None:
        return None
    return {**obj["data"], "entries": [e["id"] for e in json.loads(obj["data"]["entries"])]}


@dataclass
class Live:
    """The sandbox repository and cluster, and the CLI pointed at both."""

    sandbox: Any  # conftest.Sandbox
    kubeconfig: Path
    run_cli: Callable[..., Any]  # conftest.run_cli

    def cli(self, verb: str, *args: str) -> Any:
        notify = ["--no-notify"] if verb in ("apply", "reconcile") else []
        result = self.run_cli(verb, *args, "--repo", str(self.sandbox.repo), "--path", "clusters/dev",
                              "--kubeconfig", str(self.kubeconfig), *notify)
        text = result.out + result.err
        assert SECRET_VALUE not in text, "a Secret value was printed"
        assert "Traceback" not in text
        return result

    def edit(self, path: str, old: str, new: str) -> None:
        self.sandbox.edit(path, old, new)

    def write(self, path: str, text: str) -> None:
        (self.sandbox.repo / path).parent.mkdir(parents=True, exist_ok=True)
        (self.sandbox.repo / path).write_text(text)

    def dump(self) -> dict[str, Any]:
        return cluster_dump(self.sandbox)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Any:
        return self.sandbox.client.get(api_version, kind, name, namespace)

    def applied(self) -> dict[str, Any]:
        """Apply the repository as it is (allowing destructive prunes), assert success, dump."""
        result = self.cli("apply", "--allow-destructive-prune")
        assert result.code == 0, result.out + result.err
        return self.dump()


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    """The keys of the objects that differ (added, removed or changed) between two dumps."""
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
