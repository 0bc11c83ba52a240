"""Build one Flux Kustomization the way kustomize-controller does.

1. Find the kustomization file at `spec.path`, or generate one (Flux's rules: walk the directory in
   lexical order, list every `.yaml`/`.yml` file, list a sub-directory that holds a kustomization
   file as one resource without descending, write `namespace: _placeholder` when nothing is found).
2. Merge the spec into it: `targetNamespace` → `namespace`, `namePrefix`/`nameSuffix` override,
   `patches` (and v1beta2 `patchesStrategicMerge`/`patchesJson6902`) appended, `images` merged by
   name, `components` appended, `buildMetadata` replaced.
3. Run kustomize with load restrictor none and no plugins or Helm inflation. kustomize is a
   short-lived Go program whose garbage collector takes about a third of its CPU on a typical node,
   so unless the environment sets `GOGC` or `GOMEMLIMIT` itself, it runs with collection off until
   its heap nears `KUSTOMIZE_GO_MEMORY_LIMIT` (the output is the same, the build cheaper).

The checkout is never written: builds read a filtered copy of the source (`BuildWorkspace.tree`).
A build that needs a changed or generated kustomization file gets a private *view* of the tree: real
directories down to `spec.path`, symlinks to the shared copy everywhere else, and the new
kustomization file in the real directory. Views cost a few syscalls per path level, so builds that
share a directory can run concurrently without seeing each other's files.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fluxpush.errors import RenderError
from fluxpush.flux.model import Image, Kustomization
from fluxpush.runner import run_command
from fluxpush.tools import Tool
from fluxpush.yamldoc import dump_documents, load_documents

# kustomize's recognised file names, in the order it looks for them.
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
KUSTOMIZE_API = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
# Flux writes this namespace into a generated kustomization with no resources, because kustomize
# refuses an empty kustomization file; the build then yields no objects.
PLACEHOLDER_NAMESPACE = "_placeholder"
KUSTOMIZE_GO_MEMORY_LIMIT = "256MiB"


def find_kustomization_file(directory: Path) -> Path | None:
    """The kustomization file kustomize would read in `directory`, if any."""
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def generate_resources(directory: Path) -> list[str]:
    """Resources of a generated kustomization: Flux's walk of `directory`, paths as `./rel`."""
    found: list[str] = []

    def walk(current: Path, prefix: str) -> None:
        for name in sorted(os.listdir(current)):
            path = current / name
            rel = f"{prefix}{name}"
            if path.is_dir():
                if find_kustomization_file(path):
                    found.append(f"./{rel}")
                else:
                    walk(path, f"{rel}/")
            elif path.suffix in (".yaml", ".yml"):
                found.append(f"./{rel}")

    walk(directory, "")
    return found


def merge_images(existing: list[dict[str, Any]], overrides: tuple[Image, ...]) -> list[dict[str, Any]]:
    """Flux's merge of `spec.images` into the file's `images` (by name, field-wise)."""
    merged = [dict(item) for item in existing]
    for image in overrides:
        entry = next((item for item in merged if item.get("name") == image.name), None)
        if entry is None:
            entry = {"name": image.name}
            merged.append(entry)
        if image.new_name:
            entry["newName"] = image.new_name
        if image.new_tag or image.digest:
            entry.pop("newTag", None)
            entry.pop("digest", None)
            if image.new_tag:
                entry["newTag"] = image.new_tag
            if image.digest:
                entry["digest"] = image.digest
    return merged


def _checked_components(ks: Kustomization, directory: Path) -> list[str]:
    components = []
    for component in ks.components:
        if component.startswith("/") or "://" in component:
            raise RenderError(f"component {component!r} must be local and relative", node=str(ks.ref))
        if ks.ignore_missing_components and not (directory / component).exists():
            continue
        components.append(component)
    return components


def needs_merge(ks: Kustomization) -> bool:
    """Whether the spec changes the kustomization file at all."""
    return bool(ks.target_namespace or ks.name_prefix or ks.name_suffix or ks.patches
                or ks.patches_strategic_merge or ks.patches_json6902 or ks.images or ks.components
                or ks.build_metadata)


def merge_spec(kustomization: dict[str, Any], ks: Kustomization, directory: Path) -> dict[str, Any]:
    """The kustomization file's content with the Flux spec fields merged in."""
    merged = dict(kustomization)
    if ks.target_namespace:
        merged["namespace"] = ks.target_namespace
    if ks.name_prefix:
        merged["namePrefix"] = ks.name_prefix
    if ks.name_suffix:
        merged["nameSuffix"] = ks.name_suffix
    if ks.patches:
        merged["patches"] = [*merged.get("patches", []),
                             *({"patch": p.patch, **({"target": p.target} if p.target else {})}
                               for p in ks.patches)]
    if ks.patches_strategic_merge:
        merged["patchesStrategicMerge"] = [*merged.get("patchesStrategicMerge", []),
                                           *(json.dumps(p) for p in ks.patches_strategic_merge)]
    if ks.patches_json6902:
        merged["patchesJson6902"] = [*merged.get("patchesJson6902", []),
                                     *({"patch": json.dumps(p.get("patch", [])), "target": p.get("target")}
                                       for p in ks.patches_json6902)]
    if ks.images:
        merged["images"] = merge_images(merged.get("images", []), ks.images)
    components = _checked_components(ks, directory)
    if components:
        merged["components"] = [*merged.get("components", []), *components]
    if ks.build_metadata:
        merged["buildMetadata"] = list(ks.build_metadata)
    return merged


@dataclass
class BuildWorkspace:
    """A filtered copy of one source (`tree`) plus scratch space for per-build views."""

    tree: Path
    scratch: Path
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def make_view(self, rel_dir: str) -> Path:
        """A private view of the tree in which `rel_dir` is a real, writable directory."""
        with self._lock:
            view = self.scratch / f"view-{next(self._ids)}"
        parts = [p for p in Path(rel_dir).parts if p not in (".", "")]
        src, dst = self.tree, view
        dst.mkdir(parents=True)
        for depth in range(len(parts) + 1):
            keep_real = parts[depth] if depth < len(parts) else None
            for name in os.listdir(src):
                if name == keep_real or (keep_real is None and name in KUSTOMIZATION_FILES):
                    continue
                (dst / name).symlink_to(src / name)
            if keep_real is None:
                break
            src, dst = src / keep_real, dst / keep_real
            dst.mkdir()
        return dst


def prepare_build_dir(ks: Kustomization, workspace: BuildWorkspace, rel_dir: str) -> Path:
    """The directory to run kustomize in for `ks`, with Flux's kustomization file in place."""
    directory = workspace.tree / rel_dir
    existing = find_kustomization_file(directory)
    if existing is not None and not needs_merge(ks):
        return directory
    if existing is not None:
        docs = load_documents(existing.read_text(encoding="utf-8"), f"{rel_dir}/{existing.name}")
        content: dict[str, Any] = docs[0].data if docs and isinstance(docs[0].data, dict) else {}
        file_name = existing.name
    else:
        resources = generate_resources(directory)
        content = {**KUSTOMIZE_API, "resources": resources} if resources else {
            **KUSTOMIZE_API, "namespace": PLACEHOLDER_NAMESPACE}
        file_name = KUSTOMIZATION_FILES[0]
    view = workspace.make_view(rel_dir)
    (view / file_name).write_text(dump_documents([merge_spec(content, ks, directory)]), encoding="utf-8")
    return view


def kustomize_environment() -> dict[str, str]:
    """What kustomize gets beyond the runner's minimal environment: the Go collector tuned, unless
    our environment tunes it already (the runner passes `GOGC`/`GOMEMLIMIT` through)."""
    if "GOGC" in os.environ or "GOMEMLIMIT" in os.environ:
        return {}
    return {"GOGC": "off", "GOMEMLIMIT": KUSTOMIZE_GO_MEMORY_LIMIT}


def run_kustomize(tool: Tool, directory: Path, *, node: str) -> list[dict[str, Any]]:
    """`kustomize build` of `directory` as Flux runs it; the resulting objects in output order."""
    argv = [*tool.argv, *([] if len(tool.argv) > 1 else ["build"]), str(directory),
            "--load-restrictor", "LoadRestrictionsNone"]
    out = run_command(argv, cwd=str(directory), env=kustomize_environment(), node=node,
                      what="kustomize build failed")
    objects = []
    for doc in load_documents(out.stdout, f"kustomize build output of {node}"):
        obj = doc.data
        metadata = obj.get("metadata") if isinstance(obj, dict) else None
        if not (isinstance(obj, dict) and obj.get("apiVersion") and obj.get("kind")
                and isinstance(metadata, dict) and metadata.get("name")):
            raise RenderError("kustomize produced an object without apiVersion, kind or metadata.name",
                              node=node)
        objects.append(obj)
    return objects
