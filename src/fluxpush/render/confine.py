"""Confine a kustomize build to its source root, as kustomize-controller's secure file system does.

Flux builds on `MakeFsOnDiskSecureBuild` (fluxcd/pkg kustomize/filesys): every path kustomize
opens must resolve, after symlinks, inside the source root, or the build fails. kustomize runs here
as a separate binary, so the same rule is enforced before it starts: every kustomization file a
build can reach is read, and every path in it that kustomize would open from disk is checked.

* The paths are those of kustomize v5's `Kustomization` type: `resources`, `bases`, `components`,
  `generators`, `transformers`, `validators` (directories are followed, since their kustomization
  files are read too), `crds`, `configurations`, `openapi.path`, `replacements[].path`,
  `patches[].path`, `patchesStrategicMerge[]` (unless the entry is an inline patch),
  `patchesJson6902[].path`, and the `files`/`envs`/`env` of `configMapGenerator` and
  `secretGenerator`. `helmCharts`, `helmGlobals` and `helmChartInflationGenerator` are refused:
  Flux never enables kustomize's Helm inflation.
* A path must be relative, stay inside the root once `..` is applied, and not pass through a
  symlink that leaves the root. The build reads a copy of the checkout in which no symlink leaving
  the root exists (`Source.copy_to`); the checkout is consulted only to name such a link in the
  error.
* Remote bases (URLs in `resources`, `bases`, `components`) are allowed unless `no_remote_bases`
  (kustomize-controller's `--no-remote-bases`), as in Flux. A `file://` URL is a path outside the
  root and is refused. The content of a remote base is fetched by kustomize and not checked here.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fluxpush.errors import FluxpushError, Origin, SourceError
from fluxpush.render.kustomize import find_kustomization_file
from fluxpush.yamldoc import load_file

# Fields whose entries may be a file, a directory with a kustomization, or a remote base.
_TREE_FIELDS = ("resources", "bases", "components", "generators", "transformers", "validators")
_REMOTE_FIELDS = ("resources", "bases", "components")
_FILE_LIST_FIELDS = ("crds", "configurations")
_PATH_ITEM_FIELDS = ("patches", "patchesJson6902", "replacements")
_GENERATOR_FIELDS = ("configMapGenerator", "secretGenerator")
_HELM_FIELDS = ("helmCharts", "helmGlobals", "helmChartInflationGenerator")
# What kustomize treats as a remote target: a URL scheme, scp-like `git@host:`, or `host.tld/…`.
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:|[\w-]+(?:\.[\w-]+)+/)", re.IGNORECASE)
_FIX = "keep every file a kustomization reads inside the repository and refer to it by a relative path"


@dataclass(frozen=True, slots=True)
class Reference:
    """One path a kustomization file names: the field (`resources[2]`) and the text."""

    field: str
    value: str
    tree: bool = False  # a directory here is itself a kustomization that is read
    remote: bool = False  # a URL here is a remote base


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _is_inline(entry: str) -> bool:
    """Whether a generator/transformer/patch entry is inline YAML rather than a path (kustomize
    tries the entry as a document first)."""
    stripped = entry.strip()
    return "\n" in stripped or stripped.startswith(("{", "[")) or ": " in stripped


def _generator_refs(name: str, generators: Any) -> Iterator[Reference]:
    for index, generator in enumerate(generators if isinstance(generators, list) else []):
        if not isinstance(generator, dict):
            continue
        for position, entry in enumerate(_strings(generator.get("files"))):
            yield Reference(f"{name}[{index}].files[{position}]", entry.split("=", 1)[-1])
        for position, entry in enumerate(_strings(generator.get("envs"))):
            yield Reference(f"{name}[{index}].envs[{position}]", entry)
        for entry in _strings(generator.get("env")):
            yield Reference(f"{name}[{index}].env", entry)


def references(kustomization: dict[str, Any]) -> Iterator[Reference]:
    """Every path `kustomization` makes kustomize read from disk, in field order."""
    for name in _TREE_FIELDS:
        for index, entry in enumerate(_strings(kustomization.get(name))):
            if not _is_inline(entry):
                yield Reference(f"{name}[{index}]", entry, tree=True, remote=name in _REMOTE_FIELDS)
    for name in _FILE_LIST_FIELDS:
        for index, entry in enumerate(_strings(kustomization.get(name))):
            yield Reference(f"{name}[{index}]", entry)
    for index, entry in enumerate(_strings(kustomization.get("patchesStrategicMerge"))):
        if not _is_inline(entry):
            yield Reference(f"patchesStrategicMerge[{index}]", entry)
    yield from _path_item_refs(kustomization)
    for name in _GENERATOR_FIELDS:
        yield from _generator_refs(name, kustomization.get(name))


def _path_item_refs(kustomization: dict[str, Any]) -> Iterator[Reference]:
    """The `path` of each item of the fields that hold such items, and `openapi.path`."""
    for name in _PATH_ITEM_FIELDS:
        items = kustomization.get(name)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                yield Reference(f"{name}[{index}].path", item["path"])
    openapi = kustomization.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield Reference("openapi.path", openapi["path"])


@dataclass
class BuildConfinement:
    """Checks one build before kustomize runs; see the module docstring.

    `tree` is the copy the build reads, `checkout` the original (for naming escaping symlinks);
    both have the same layout. Paths are handled relative to them, POSIX style.
    """

    tree: Path
    checkout: Path
    node: str
    no_remote_bases: bool = False
    _seen: set[str] = field(default_factory=set)

    def check(self, build_dir: Path, rel_dir: str) -> None:
        """Check the kustomization in `build_dir` (the tree's `rel_dir`, or a view of it) and every
        kustomization it reaches; raise `SourceError` naming the file, field and path."""
        self._visit(build_dir, _norm(rel_dir))

    def _visit(self, directory: Path, rel_dir: str) -> None:
        if rel_dir in self._seen:
            return
        self._seen.add(rel_dir)
        kfile = find_kustomization_file(directory)
        if kfile is None:
            return  # kustomize reports the missing file itself
        display = posixpath.join(rel_dir, kfile.name) if rel_dir != "." else kfile.name
        docs = load_file(str(kfile), display)
        content = docs[0].data if docs and isinstance(docs[0].data, dict) else {}
        for name in _HELM_FIELDS:
            if name in content:
                raise self._error(display, name, "", "kustomize's Helm chart inflation is not enabled "
                                  "(Flux builds without it)", "use a HelmRelease for the chart")
        for ref in references(content):
            target = self._resolve(display, rel_dir, ref)
            if target is not None and ref.tree and (self.tree / target).is_dir():
                self._visit(self.tree / target, target)

    def _resolve(self, display: str, rel_dir: str, ref: Reference) -> str | None:
        """The relpath `ref` names, checked; None for an allowed remote target.

        kustomize reads every entry as a local file first (a `..` chain that leaves the root is
        read even when the entry looks like a URL), so the local checks come before the remote one.
        """
        value = ref.value.strip()
        if value.lower().startswith("file:") or os.path.isabs(value):
            raise self._error(display, ref.field, value, "is an absolute path, outside the source root", _FIX)
        target = _norm(posixpath.join(rel_dir, value))
        if target == ".." or target.startswith("../"):
            raise self._error(display, ref.field, value, "leaves the source root", _FIX)
        if not (self.tree / target).exists() and self._is_remote(ref, value):
            if self.no_remote_bases:
                raise self._error(display, ref.field, value, "remote bases are disabled "
                                  "(--no-remote-bases)", "vendor the base into the repository")
            return None
        escaping = self._escaping_link(target)
        if escaping is not None:
            raise self._error(display, ref.field, value,
                              f"goes through the symlink {escaping}, which leads outside the source root",
                              "replace the symlink with the file itself")
        return target

    @staticmethod
    def _is_remote(ref: Reference, value: str) -> bool:
        """An HTTP(S) URL (kustomize fetches those for any field), or a git target for a base."""
        return value.lower().startswith(("http://", "https://")) or bool(ref.remote and _REMOTE.match(value))

    def _escaping_link(self, target: str) -> str | None:
        """The first symlink on `target`'s path in the checkout that resolves outside it."""
        root = os.path.realpath(self.checkout)
        current = self.checkout
        for part in target.split("/"):
            current = current / part
            if current.is_symlink():
                real = os.path.realpath(current)
                if real != root and not real.startswith(root + os.sep):
                    return current.relative_to(self.checkout).as_posix()
        return None

    def _error(self, display: str, field_name: str, value: str, problem: str, hint: str) -> FluxpushError:
        text = f"{value!r} {problem}" if value else problem
        return SourceError(text, origin=Origin(display), obj=self.node, field=field_name, hint=hint)


def _norm(rel: str) -> str:
    return posixpath.normpath(rel) if rel else "."
