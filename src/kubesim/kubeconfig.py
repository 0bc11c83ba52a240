"""Kubeconfig documents pointing kubectl, helm and client libraries at a running kubesim."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml


def build_kubeconfig(name: str, server: str, ca_pem: str, token: str, namespace: str = "") -> dict[str, Any]:
    """One cluster, user and context, all called `name`; the CA inline, a static bearer token."""
    context: dict[str, Any] = {"cluster": name, "user": name}
    if namespace:
        context["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": {
            "server": server,
            "certificate-authority-data": base64.b64encode(ca_pem.encode("ascii")).decode("ascii"),
        }}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": context}],
        "current-context": name,
    }


def write_kubeconfig(config: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write a kubeconfig readable only by its owner (it holds a credential); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        yaml.safe_dump(config, out, sort_keys=False)
    target.chmod(0o600)
    return target
