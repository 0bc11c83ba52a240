"""Read helm's release storage (Secrets `sh.helm.release.v1.<release>.v<N>`) through the kube client.

Each Secret is labelled `owner=helm, name=<release>, status=<status>, version=<N>` plus the release's
own labels (fluxpush's config digest among them); `data.release` is base64 of gzipped JSON.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from typing import Any

from fluxpush.kube import KubeClient
from fluxpush.yamldoc import load_safe_documents

DIGEST_LABEL = "fluxpush.io/config-digest"  # the release label fluxpush compares to decide "no action"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class StoredRelease:
    """One stored revision of a release."""

    name: str
    namespace: str
    revision: int
    status: str  # deployed, failed, superseded, uninstalled, pending-install, pending-upgrade, …
    chart_name: str = ""
    chart_version: str = ""
    app_version: str = ""
    digest: str = ""
    manifest: str = ""
    config: dict[str, Any] = field(default_factory=dict)  # the values passed; may hold secrets

    def manifest_objects(self) -> list[dict[str, Any]]:
        """The objects helm recorded for this revision."""
        return [d for d in load_safe_documents(self.manifest, "helm release manifest")
                if isinstance(d, dict) and d.get("kind")]


def decode_release(secret: dict[str, Any]) -> StoredRelease:
    """A release Secret as a `StoredRelease`; raises ValueError when it is not one."""
    labels = (secret.get("metadata") or {}).get("labels") or {}
    raw = base64.b64decode((secret.get("data") or {}).get("release", ""))
    payload = base64.b64decode(raw)
    if payload[:2] == _GZIP_MAGIC:
        payload = gzip.decompress(payload)
    body = json.loads(payload) if payload else {}
    chart = (body.get("chart") or {}).get("metadata") or {}
    return StoredRelease(
        name=labels.get("name", body.get("name", "")),
        namespace=(secret.get("metadata") or {}).get("namespace", ""),
        revision=int(labels.get("version") or body.get("version") or 0),
        status=labels.get("status") or (body.get("info") or {}).get("status", ""),
        chart_name=str(chart.get("name", "")),
        chart_version=str(chart.get("version", "")),
        app_version=str(chart.get("appVersion", "")),
        digest=labels.get(DIGEST_LABEL, ""),
        manifest=str(body.get("manifest", "")),
        config=body.get("config") or {},
    )


def release_history(client: KubeClient, name: str, namespace: str) -> list[StoredRelease]:
    """Every stored revision of `name` in `namespace`, oldest first."""
    secrets = client.list("v1", "Secret", namespace, label_selector=f"owner=helm,name={name}")
    return sorted((decode_release(s) for s in secrets), key=lambda r: r.revision)


def latest_release(client: KubeClient, name: str, namespace: str) -> StoredRelease | None:
    """The newest stored revision, or None when the release was never installed."""
    history = release_history(client, name, namespace)
    return history[-1] if history else None
