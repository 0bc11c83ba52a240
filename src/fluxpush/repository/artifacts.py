"""ArtifactGenerator (source-watcher, `source.extensions.fluxcd.io`) run locally.

An ArtifactGenerator turns its sources into ExternalArtifacts by copy rules. When every source it
copies from is this checkout, fluxpush produces each artifact the way source-watcher's builder
does, into a folder a Kustomization (`sourceRef.kind: ExternalArtifact`) or a HelmRelease
(`chartRef.kind: ExternalArtifact`) then builds from:

- `from: "@alias/pattern"` — a pattern without glob characters copies one file (into a folder
  when `to` ends in `/` or names an existing folder) or one folder (as `<to>/<its name>`); a
  pattern with glob characters is matched as Go's `fs.Glob` does (`*`, `?`, `[…]` within one path
  segment; `**` is one segment too), each match copied as above, `dir/**` matches keeping their
  path below `dir`.
- `exclude` patterns (doublestar: `**` spans folders) are matched against the path in the source
  and the path below the pattern's fixed prefix; a pattern without `/` also against the base name.
- `strategy: Merge` deep-merges a YAML file into one an earlier rule copied; `Extract` (tarballs)
  and `spec.pathPattern` are not supported and say so.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fluxpush.errors import InputError, SourceError
from fluxpush.flux.model import ObjectRef
from fluxpush.yamldoc import dump_documents, load_documents

GENERATOR_GROUP = "source.extensions.fluxcd.io"
GENERATOR_KIND = "ArtifactGenerator"
ARTIFACT_KIND = "ExternalArtifact"
_GLOB = re.compile(r"[*?\[\]]")


@dataclass(frozen=True, slots=True)
class CopyRule:
    """One `copy` entry."""

    alias: str
    pattern: str
    to: str  # relative to the artifact root; keeps a trailing `/`
    exclude: tuple[str, ...]
    strategy: str


@dataclass(frozen=True, slots=True)
class OutputArtifact:
    """One entry of `spec.artifacts`: the ExternalArtifact's name and how it is filled."""

    name: str
    copy: tuple[CopyRule, ...]


@dataclass(frozen=True, slots=True)
class ArtifactGenerator:
    """An ArtifactGenerator's sources (alias → source ref) and artifacts."""

    ref: ObjectRef
    sources: dict[str, ObjectRef]
    artifacts: tuple[OutputArtifact, ...]

    def artifact_refs(self) -> list[ObjectRef]:
        """The ExternalArtifacts it produces (in its own namespace)."""
        return [ObjectRef(ARTIFACT_KIND, self.ref.namespace, a.name) for a in self.artifacts]


def is_artifact_generator(obj: dict[str, Any]) -> bool:
    """Whether a rendered object is an ArtifactGenerator."""
    api_version = str(obj.get("apiVersion", ""))
    return api_version.startswith(GENERATOR_GROUP + "/") and obj.get("kind") == GENERATOR_KIND


def _escapes(path: str) -> bool:
    return path.startswith("/") or ".." in path.split("/")


def _rule(entry: Any, where: str) -> CopyRule:
    if not isinstance(entry, dict):
        raise InputError("a copy entry must be a mapping", obj=where, field="spec.artifacts[].copy")
    source, target = str(entry.get("from", "")), str(entry.get("to", ""))
    alias, sep, pattern = source[1:].partition("/") if source.startswith("@") else ("", "", "")
    if not sep or not pattern:
        raise InputError(f"copy from {source!r} must be '@alias/pattern'", obj=where,
                         field="spec.artifacts[].copy[].from")
    if not target.startswith("@artifact/"):
        raise InputError(f"copy to {target!r} must start with '@artifact/'", obj=where,
                         field="spec.artifacts[].copy[].to")
    if _escapes(pattern) or _escapes(target.removeprefix("@artifact/")):
        raise InputError(f"copy from {source!r} to {target!r} leaves the source or the artifact", obj=where,
                         field="spec.artifacts[].copy[]", hint="use paths inside the source, without '..'")
    strategy = str(entry.get("strategy") or "Overwrite")
    if strategy not in ("Overwrite", "Merge"):
        raise InputError(f"copy strategy {strategy} is not supported by fluxpush", obj=where,
                         field="spec.artifacts[].copy[].strategy", hint="use Overwrite or Merge")
    return CopyRule(alias, pattern, target.removeprefix("@artifact/"),
                    tuple(str(p) for p in entry.get("exclude") or []), strategy)


def parse_generator(obj: dict[str, Any]) -> ArtifactGenerator:
    """An ArtifactGenerator from its rendered object; InputError naming the field when malformed."""
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    ref = ObjectRef(GENERATOR_KIND, namespace, str(meta.get("name")))
    spec = obj.get("spec") or {}
    if spec.get("pathPattern"):
        raise InputError("spec.pathPattern is not supported by fluxpush", obj=str(ref),
                         field="spec.pathPattern", hint="list the artifacts explicitly")
    sources = {}
    for entry in spec.get("sources") or []:
        if isinstance(entry, dict):
            sources[str(entry.get("alias"))] = ObjectRef(str(entry.get("kind")),
                                                         str(entry.get("namespace") or namespace),
                                                         str(entry.get("name")))
    artifacts = tuple(
        OutputArtifact(str(a.get("name")), tuple(_rule(c, str(ref)) for c in a.get("copy") or []))
        for a in spec.get("artifacts") or [] if isinstance(a, dict))
    return ArtifactGenerator(ref, sources, artifacts)


# -- matching --

def _go_segment(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern.replace("[^", "[!"))


def go_glob(root: Path, pattern: str) -> list[str]:
    """Go's `fs.Glob(root, pattern)`: matches per path segment, sorted, relative with `/`."""
    current = [""]
    for segment in [s for s in pattern.split("/") if s not in ("", ".")]:
        following = []
        for base in current:
            folder = root / base if base else root
            if not _GLOB.search(segment):
                candidate = f"{base}/{segment}" if base else segment
                if (root / candidate).exists():
                    following.append(candidate)
                continue
            if folder.is_dir():
                following += [f"{base}/{n}" if base else n for n in sorted(os.listdir(folder))
                              if _go_segment(segment, n)]
        current = following
    return [c for c in current if c]


def _doublestar_regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "{" and "}" in pattern[i:]:
            end = pattern.index("}", i)
            out.append("(?:" + "|".join(re.escape(p) for p in pattern[i + 1:end].split(",")) + ")")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def excluded(path: str, base: str, patterns: tuple[str, ...]) -> bool:
    """source-watcher's `shouldExcludePath`: the full path, the path below `base`, or the base name."""
    def match(candidate: str) -> bool:
        name = candidate.rsplit("/", 1)[-1]
        return any(_doublestar_regex(p).match(candidate)
                   or ("/" not in p and _doublestar_regex(p).match(name)) for p in patterns)

    if not patterns:
        return False
    if match(path):
        return True
    if base in (".", ""):
        return False
    relative = path[len(base) + 1:] if path.startswith(base + "/") else None
    return relative is not None and match(relative)


def _selection_root(pattern: str) -> str:
    parts = []
    for part in pattern.split("/"):
        if _GLOB.search(part):
            break
        parts.append(part)
    return "/".join(p for p in parts if p) or "."


# -- copying --

def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overlay.items():
        nested = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if nested else value
    return out


def _yaml_map(path: Path) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for doc in load_documents(path.read_text(encoding="utf-8"), str(path.name)):
        if isinstance(doc.data, dict):
            merged = _merge(merged, doc.data)
    return merged


def _copy_file(src: Path, dest: Path, rule: CopyRule) -> None:
    if src.is_symlink():
        return  # the checkout's copy keeps no links out of it; a link inside is not followed
    dest.parent.mkdir(parents=True, exist_ok=True)
    if rule.strategy == "Merge" and dest.is_file():
        dest.write_text(dump_documents([_merge(_yaml_map(dest), _yaml_map(src))]).removeprefix("---\n"),
                        encoding="utf-8")
        return
    shutil.copyfile(src, dest)


def _copy_tree(root: Path, rel: str, dest: Path, rule: CopyRule, base: str) -> None:
    source = root / rel
    if source.is_file():
        _copy_file(source, dest, rule)
        return
    dest.mkdir(parents=True, exist_ok=True)
    for name in sorted(os.listdir(source)):
        child = f"{rel}/{name}"
        if not excluded(child, base, rule.exclude):
            _copy_tree(root, child, dest / name, rule, base)


def _glob_destination(pattern: str, match: str, to: str) -> str:
    prefix = pattern[:-3] if pattern.endswith("/**") else None
    if prefix is not None and match.startswith(prefix + "/"):
        return os.path.join(to, match[len(prefix) + 1:])
    return os.path.join(to, match)


def _apply_rule(rule: CopyRule, root: Path, staging: Path) -> None:
    to = rule.to.rstrip("/")
    if not _GLOB.search(rule.pattern):
        rel = os.path.normpath(rule.pattern)
        source = root / rel
        if not source.exists():
            raise SourceError(f"source '{rel}' does not exist")
        if source.is_dir():
            _copy_tree(root, rel, staging / to / source.name, rule, rel)
        elif not excluded(rel, ".", rule.exclude):
            into_dir = rule.to.endswith("/") or rule.to == "" or (staging / to).is_dir()
            _copy_file(source, staging / to / source.name if into_dir else staging / to, rule)
        return
    base = _selection_root(rule.pattern)
    matches = go_glob(root, rule.pattern)
    if not matches:
        raise SourceError(f"no files match pattern '{rule.pattern}' in source '{rule.alias}'")
    kept = [m for m in matches if not excluded(m, base, rule.exclude)]
    if not kept:
        raise SourceError(f"all files matching pattern '{rule.pattern}' in source '{rule.alias}' "
                          "were excluded")
    for match in kept:
        _copy_tree(root, match, staging / _glob_destination(rule.pattern, match, to), rule, base)


def build_artifact(artifact: OutputArtifact, sources: dict[str, Path], staging: Path, *, where: str) -> Path:
    """Fill `staging` with the artifact's files; SourceError naming the rule when one fails."""
    staging.mkdir(parents=True, exist_ok=True)
    for rule in artifact.copy:
        root = sources.get(rule.alias)
        if root is None:
            raise SourceError(f"source alias '{rule.alias}' not found", obj=where)
        try:
            _apply_rule(rule, root.resolve(), staging)
        except SourceError as exc:
            raise SourceError(f"artifact {artifact.name}: failed to apply copy operation from "
                              f"'@{rule.alias}/{rule.pattern}' to '@artifact/{rule.to}': {exc.message}",
                              obj=where) from exc
    return staging
