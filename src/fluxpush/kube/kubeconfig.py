"""Isolated kubeconfig loading: a fresh `Configuration`, never the client library's global default."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from kubernetes.client import Configuration
from kubernetes.config import kube_config
from kubernetes.config.config_exception import ConfigException

from fluxpush.errors import InputError, Origin

DEFAULT_KUBECONFIG = "~/.kube/config"


def kubeconfig_paths(path: str | None = None) -> list[Path]:
    """The files to merge: `path` or `$KUBECONFIG` (both may list several, `os.pathsep`-separated)."""
    spec = path or os.environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG
    return [Path(part).expanduser() for part in spec.split(os.pathsep) if part]


def load_kubeconfig(path: str | None = None, context: str | None = None) -> tuple[Configuration, str]:
    """A `Configuration` for `context` (default: the current context) and that context's name."""
    paths = kubeconfig_paths(path)
    existing = [p for p in paths if p.is_file()]
    where = os.pathsep.join(str(p) for p in paths)
    if not existing:
        raise InputError(
            "no kubeconfig file found",
            origin=Origin(where),
            hint="pass --kubeconfig or set KUBECONFIG to an existing file",
        )
    joined = os.pathsep.join(str(p) for p in existing)
    configuration = Configuration()
    try:
        contexts, _ = kube_config.list_kube_config_contexts(joined)
        names = [c["name"] for c in contexts]
        context = context or _first_current_context(existing)
        if context is None:
            raise InputError(
                "the kubeconfig sets no current-context",
                origin=Origin(where),
                hint=f"pass a context: one of {', '.join(names) or '(none)'}",
            )
        if context is not None and context not in names:
            raise InputError(
                f"context {context!r} is not in the kubeconfig",
                origin=Origin(where),
                hint=f"use one of: {', '.join(names) or '(none)'}",
            )
        kube_config.load_kube_config(
            config_file=joined, context=context, client_configuration=configuration, persist_config=False
        )
    except ConfigException as exc:
        raise InputError(f"kubeconfig cannot be used: {exc}", origin=Origin(where)) from exc
    return configuration, context


def _first_current_context(paths: list[Path]) -> str | None:
    """`current-context` as kubectl merges it: the first file that sets it wins.

    (The Python client lets the last file win; kubectl's rule is the one users expect.)
    """
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"kubeconfig cannot be read: {exc}", origin=Origin(str(path))) from exc
        if isinstance(data, dict) and data.get("current-context"):
            return str(data["current-context"])
    return None
