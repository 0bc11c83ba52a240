"""helm's post-renderer, run as `python -m fluxpush.helm.postrender CONFIG.json` by helm itself.

Reads the rendered manifests on stdin and writes them back on stdout after, in helm-controller's
order: each `postRenderers[].kustomize` (patches and images, through kustomize), `commonMetadata`
labels and annotations, then the origin labels `helm.toolkit.fluxcd.io/{name,namespace}` (last,
so they win on a collision).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from fluxpush.errors import FluxpushError
from fluxpush.render.kustomize import run_kustomize
from fluxpush.tools import find_kustomize
from fluxpush.yamldoc import load_safe_documents

ORIGIN_NAME = "helm.toolkit.fluxcd.io/name"
ORIGIN_NAMESPACE = "helm.toolkit.fluxcd.io/namespace"


def _kustomize(objects: list[dict[str, Any]], step: dict[str, Any]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="fluxpush-postrender-") as scratch:
        folder = Path(scratch)
        (folder / "all.yaml").write_text(yaml.safe_dump_all(objects), encoding="utf-8")
        kustomization: dict[str, Any] = {"apiVersion": "kustomize.config.k8s.io/v1beta1",
                                         "kind": "Kustomization", "resources": ["all.yaml"]}
        if step.get("patches"):
            kustomization["patches"] = step["patches"]
        if step.get("images"):
            kustomization["images"] = step["images"]
        (folder / "kustomization.yaml").write_text(yaml.safe_dump(kustomization), encoding="utf-8")
        return run_kustomize(find_kustomize(), folder, node="post-renderer")


def _add_metadata(obj: dict[str, Any], key: str, extra: dict[str, str]) -> None:
    if extra:
        meta = obj.setdefault("metadata", {})
        meta[key] = {**(meta.get(key) or {}), **extra}


def post_render(objects: list[dict[str, Any]], config: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply the configured post-render steps to `objects` (see the module docstring)."""
    for step in config.get("kustomize") or []:
        objects = _kustomize(objects, step)
    common = config.get("commonMetadata") or {}
    origin = {ORIGIN_NAME: config["origin"]["name"], ORIGIN_NAMESPACE: config["origin"]["namespace"]}
    for obj in objects:
        _add_metadata(obj, "labels", common.get("labels") or {})
        _add_metadata(obj, "annotations", common.get("annotations") or {})
        _add_metadata(obj, "labels", origin)
    return objects


def main(argv: list[str] | None = None) -> int:
    """Entry point helm calls: config path as the only argument."""
    args = sys.argv[1:] if argv is None else argv
    config = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    try:
        objects = [doc for doc in load_safe_documents(sys.stdin.read(), "helm template output")
                   if isinstance(doc, dict)]
        rendered = post_render(objects, config)
    except FluxpushError as exc:
        print(f"fluxpush post-renderer: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(yaml.safe_dump_all(rendered, sort_keys=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
