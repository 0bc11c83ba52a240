"""kustomize-controller's `DecryptSources`: encrypted files a build reads, decrypted before it runs.

From the kustomization file at the build path, and recursively those of its local `resources` and
`components` directories: every `secretGenerator` file source (format from the key's extension)
and env file (dotenv unless the extension says otherwise), and every `patches` path. A file is
decrypted only when it holds its format's SOPS marker. Decrypted files go into a private copy of
the build tree, never the shared one, so no other node sees them. A generator file no key opens
is replaced by a masked placeholder (its Secret becomes sealed: planned, never applied); an
encrypted patch is left as it is, and the object it patches is sealed after the build.
"""

from __future__ import annotations

import posixpath
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fluxpush.errors import FluxpushError, RenderError
from fluxpush.render.kustomize import BuildWorkspace, find_kustomization_file
from fluxpush.sops.document import decrypt_bytes
from fluxpush.sops.formats import MARKERS, Format, format_for_path
from fluxpush.sops.keys import MissingKeyError
from fluxpush.sops.resources import ResourceDecryptor
from fluxpush.sops.sealed import SOPS_MASK, Sealed
from fluxpush.sops.tree import SopsError
from fluxpush.yamldoc import load_documents


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file a kustomization reads that may be SOPS-encrypted; `generated` for generator inputs."""

    path: str  # relative to the tree
    format: Format
    generated: bool


def _inside(rel: str) -> bool:
    return not rel.startswith("../") and rel != ".." and not posixpath.isabs(rel)


def _generator_files(kustomization: dict[str, Any]) -> list[tuple[str, Format]]:
    found = []
    for generator in kustomization.get("secretGenerator") or []:
        if not isinstance(generator, dict):
            continue
        for source in generator.get("files") or []:
            key, _, path = str(source).partition("=")
            found.append((path or key, format_for_path(key)))
        envs = list(generator.get("envs") or []) + ([generator["env"]] if generator.get("env") else [])
        for env in envs:
            fmt = format_for_path(str(env))
            found.append((str(env), Format.DOTENV if fmt is Format.BINARY else fmt))
    return found


def _load(file: Path) -> dict[str, Any]:
    try:
        docs = load_documents(file.read_text(encoding="utf-8"), str(file.name))
    except (OSError, FluxpushError):
        return {}  # kustomize will report it
    return docs[0].data if docs and isinstance(docs[0].data, dict) else {}


def _entries(kustomization: dict[str, Any]) -> list[tuple[str, Format, bool]]:
    entries = [(path, fmt, True) for path, fmt in _generator_files(kustomization)]
    for patch in kustomization.get("patches") or []:
        path = str(patch.get("path") or "") if isinstance(patch, dict) else ""
        if path and "://" not in path:
            entries.append((path, format_for_path(path), False))
    return entries


def _children(current: str, kustomization: dict[str, Any]) -> list[str]:
    refs = [*(kustomization.get("resources") or []), *(kustomization.get("components") or [])]
    return [posixpath.normpath(posixpath.join(current, str(r))) for r in refs if "://" not in str(r)]


def find_sources(tree: Path, rel_dir: str) -> list[SourceFile]:
    """The generator inputs and patch files reachable from the kustomization at `rel_dir`."""
    found: dict[str, SourceFile] = {}
    seen: set[str] = set()
    pending = [posixpath.normpath(rel_dir)]
    while pending:
        current = pending.pop()
        if current in seen or not _inside(current) or not (tree / current).is_dir():
            continue
        seen.add(current)
        file = find_kustomization_file(tree / current)
        kustomization = _load(file) if file is not None else {}
        for path, fmt, generated in _entries(kustomization):
            rel = posixpath.normpath(posixpath.join(current, path))
            if _inside(rel):
                found.setdefault(rel, SourceFile(rel, fmt, generated))
        pending += _children(current, kustomization)
    return list(found.values())


def _placeholder(fmt: Format, data: bytes) -> bytes:
    if fmt is not Format.DOTENV:
        return SOPS_MASK.encode()
    keys = [line.split("=", 1)[0] for line in data.decode("utf-8", "replace").split("\n")
            if "=" in line and not line.startswith(("#", "sops_"))]
    return "".join(f"{key}={SOPS_MASK}\n" for key in keys).encode()


def _encrypted(tree: Path, source: SourceFile) -> bytes | None:
    path = tree / source.path
    if path.is_symlink() or not path.is_file():
        return None
    data = path.read_bytes()
    return data if MARKERS[source.format] in data else None


def decrypt_sources(workspace: BuildWorkspace, rel_dir: str, decryptor: ResourceDecryptor,
                    scratch: Path) -> BuildWorkspace:
    """The workspace to build in: `workspace` itself when nothing is encrypted, else a private copy
    with every encrypted source decrypted (or masked, and recorded as sealed, without a key)."""
    encrypted = [(s, data) for s in find_sources(workspace.tree, rel_dir)
                 if (data := _encrypted(workspace.tree, s)) is not None]
    if not encrypted:
        return workspace
    base = Path(tempfile.mkdtemp(prefix="sops-", dir=scratch))
    shutil.copytree(workspace.tree, base / "tree", symlinks=True)
    (base / "views").mkdir()
    for source, data in encrypted:
        try:
            plain = decrypt_bytes(data, source.format, source.format, decryptor.keys, where=source.path)
        except SopsError as exc:
            if not source.generated and isinstance(exc, MissingKeyError):
                continue  # the patched object carries the SOPS metadata and is sealed after the build
            if not isinstance(exc, MissingKeyError):
                raise RenderError(f"failed to decrypt {source.path}: {exc}", node=decryptor.node) from exc
            decryptor.sealed.append(Sealed(f"file {source.path}", str(exc)))
            plain = _placeholder(source.format, data)
        (base / "tree" / source.path).write_bytes(plain)
    return BuildWorkspace(base / "tree", base / "views")
