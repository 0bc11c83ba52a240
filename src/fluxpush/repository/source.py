"""A source checkout, seen the way source-controller packages it into an artifact.

In a cluster, kustomize-controller never sees the raw Git checkout: source-controller first
archives it without the ignored files. A push-mode deployer works on the checkout itself, so it
applies the same rules here, once, before any build:

* `DEFAULT_EXCLUSIONS` (VCS files, images/archives, CI configs, `.sops.yaml`, ...);
* every `.sourceignore` in the tree (gitignore syntax; each file's patterns are anchored at its
  own directory; deeper files win over shallower ones);
* the GitRepository `spec.ignore` (highest priority).

Exactly as in source-controller (`SourceIgnoreFilter`): as soon as `.sourceignore` files or
`spec.ignore` contribute at least one pattern, only the four VCS entries of the default list stay
in force; the others (`*.png`, `.github/`, `.sops.yaml`, ...) are dropped, not merely overridable.
Matching is per path with "last matching pattern wins" (go-git's matcher), so a `!` rule can
re-include a file even below an excluded directory, which plain git would not allow.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pathspec import GitIgnoreSpec
from pathspec.pattern import Pattern

from fluxpush.errors import Origin, RenderError, SourceError
from fluxpush.runner import run_command

# source-controller's built-in exclusions (fluxcd/pkg sourceignore: ExcludeVCS, ExcludeExt,
# ExcludeCI, ExcludeExtra), in its order. The first four (VCS) always apply; the rest are dropped
# once a .sourceignore or spec.ignore supplies any pattern.
DEFAULT_EXCLUSIONS: tuple[str, ...] = (
    ".git/", ".gitignore", ".gitmodules", ".gitattributes",
    "*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip",
    ".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml", ".drone.yml",
    "cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml",
    "**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml",
)
# The VCS part of the list, kept even when user patterns replace the rest.
_VCS_EXCLUSIONS = DEFAULT_EXCLUSIONS[:4]
SOURCEIGNORE_FILE = ".sourceignore"


@dataclass(frozen=True, slots=True)
class _Layer:
    """Patterns from one place, matched against paths below `domain` ("" or "sub/dir/").

    Compared by `domain` and `lines`; the compiled `patterns` (unhashable) are derived from them.
    """

    domain: str
    lines: tuple[str, ...]
    patterns: tuple[Pattern, ...] = field(compare=False, repr=False)


def _parse(lines: Iterable[str], domain: str = "") -> _Layer:
    """Parse gitignore lines (comments and blanks dropped) into a layer."""
    kept = tuple(lines)
    spec = GitIgnoreSpec.from_lines(kept)
    return _Layer(domain, kept, tuple(p for p in spec.patterns if p.include is not None))


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    """The exclusion rules of one source, lowest priority first."""

    layers: tuple[_Layer, ...]

    @classmethod
    def load(cls, root: Path, spec_ignore: str | None = None) -> IgnoreRules:
        """Read every `.sourceignore` under `root` and combine them with defaults and `spec_ignore`."""
        user = _load_sourceignore(root, "")
        if spec_ignore is not None:
            user.append(_parse(spec_ignore.splitlines()))
        user = [layer for layer in user if layer.patterns]
        base = _VCS_EXCLUSIONS if user else DEFAULT_EXCLUSIONS
        return cls((_parse(base), *user))

    @property
    def has_negation(self) -> bool:
        """True when some `!` pattern could re-include a path below an excluded directory."""
        return any(p.include is False for layer in self.layers for p in layer.patterns)

    def is_ignored(self, relpath: str, is_dir: bool) -> bool:
        """Whether source-controller would leave `relpath` (POSIX, relative to the root) out."""
        rel = posixpath.normpath(relpath).strip("/")
        if rel in ("", "."):
            return False
        for layer in reversed(self.layers):
            if not rel.startswith(layer.domain):
                continue
            key = rel[len(layer.domain):] + ("/" if is_dir else "")
            for pattern in reversed(layer.patterns):
                if pattern.match_file(key) is not None:
                    return bool(pattern.include)
        return False


def _load_sourceignore(directory: Path, domain: str) -> list[_Layer]:
    """`.sourceignore` layers of `directory` and, depth first in name order, of its subdirectories."""
    layers: list[_Layer] = []
    path = directory / SOURCEIGNORE_FILE
    if path.is_file():
        try:
            layers.append(_parse(path.read_text(encoding="utf-8", errors="replace").splitlines(), domain))
        except OSError as exc:
            raise SourceError(f"cannot read {SOURCEIGNORE_FILE}: {exc}", origin=Origin(str(path)),
                              hint="make the file readable or remove it") from exc
    with os.scandir(directory) as entries:
        subdirs = sorted(e.name for e in entries if e.is_dir(follow_symlinks=False) and e.name != ".git")
    for name in subdirs:
        layers.extend(_load_sourceignore(directory / name, f"{domain}{name}/"))
    return layers


def _is_within(path: str, root: str) -> bool:
    """Whether the real path `path` is `root` or below it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _list_files(root: Path, rules: IgnoreRules, rel_dir: str) -> list[str]:
    """Sorted relpaths of the non-ignored regular files below `rel_dir` (see `Source.walk_files`)."""
    real_root = str(root)
    prune = not rules.has_negation
    found: list[str] = []

    def visit(rel: str, real: str, chain: frozenset[str]) -> None:
        with os.scandir(root / rel if rel else root) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            target = os.path.realpath(entry.path) if entry.is_symlink() else ""
            if target and not _is_within(target, real_root):
                continue  # a link leaving the root is not part of the source
            if entry.is_dir():
                child_real = target or os.path.join(real, entry.name)
                if entry.name == ".git" or child_real in chain:
                    continue
                if not (prune and rules.is_ignored(child, True)):
                    visit(child, child_real, chain | {child_real})
            elif entry.is_file() and not rules.is_ignored(child, False):
                found.append(child)

    start = os.path.realpath(root / rel_dir)
    if os.path.isdir(start):
        visit(rel_dir, start, frozenset({start}))
    return sorted(found)


def _content_revision(root: Path, files: list[str]) -> str:
    """`sha256:<hex>` over each file's relpath, size and bytes, in sorted order."""
    digest = hashlib.sha256()
    for rel in files:
        data = (root / rel).read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
    return f"sha256:{digest.hexdigest()}"


def _git(root: Path, *args: str) -> str | None:
    """Stripped stdout of `git args` run in `root`, or None when git fails or is missing."""
    try:
        return run_command(["git", *args], cwd=str(root), timeout=60, what="git failed").stdout.strip()
    except RenderError:
        return None


def _short_ref(ref: str) -> str:
    """Flux's revision name of a full ref: drop `refs/<kind>/` (`refs/pull/4/head` -> `4/head`)."""
    parts = ref.split("/", 2)
    return parts[2] if len(parts) == 3 else ref


def _pick_detached_ref(refs: list[str]) -> str | None:
    """The ref that names a detached HEAD best: a tag, then a local branch, then any other."""
    usable = sorted(r for r in refs if not r.endswith("/HEAD") and r != "refs/stash")
    for prefix in ("refs/tags/", "refs/heads/", "refs/"):
        for ref in usable:
            if ref.startswith(prefix):
                return ref
    return None


def git_revision(root: Path, ref_name: str | None = None) -> str | None:
    """Flux-style revision of the checkout at `root`: `<branch>@sha1:<hex>`, or `sha1:<hex>`.

    The name is `ref_name` when given (the face passes `GITHUB_HEAD_REF` on pull_request events or
    `GITHUB_REF_NAME` on push, since Actions often checks out a detached HEAD); else the current
    branch; else a ref pointing at HEAD (tag first), shortened as Flux does. None outside a git
    work tree or before the first commit.
    """
    sha = _git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}")
    if not sha:
        return None
    name = ref_name
    if not name:
        ref = _git(root, "symbolic-ref", "-q", "HEAD")
        if not ref:
            listed = _git(root, "for-each-ref", "--points-at", "HEAD", "--format=%(refname)")
            ref = _pick_detached_ref((listed or "").splitlines())
        name = _short_ref(ref) if ref else None
    return f"{name}@sha1:{sha}" if name else f"sha1:{sha}"


@dataclass(frozen=True, slots=True)
class Source:
    """A loaded source: its root directory, revision and exclusion rules."""

    root: Path
    revision: str
    ignore: IgnoreRules

    def walk_files(self, start: str = "") -> list[str]:
        """Sorted POSIX relpaths (from the root) of the non-ignored regular files below `start`.

        `.git/` is always skipped and ignored directories are not entered (unless a `!` rule could
        re-include something below them). Symlinks are followed only while they stay inside the
        root. Note: source-controller itself drops every symlink from its artifact.
        """
        rel = self._contain(start, obj=None, what="start")
        return _list_files(self.root, self.ignore, "" if rel == "." else rel)

    def resolve_path(self, spec_path: str, *, obj: str | None = None) -> Path:
        """The directory a Kustomization `spec.path` names, inside the root.

        "./apps/x", "apps/x", "/apps/x" are all relative to the root and "" is the root itself,
        as with Flux's SecureJoin. Unlike SecureJoin, which clamps `..` at the root, a path that
        escapes (by `..` or through a symlink) is refused with a `SourceError`.
        """
        rel = self._contain(spec_path, obj=obj, what="spec.path")
        path = (self.root / rel).resolve()
        excluded = rel != "." and self.ignore.is_ignored(rel, True) and not self.walk_files(rel)
        if not path.is_dir() or excluded:
            hint = ("it is excluded from the source by its ignore rules (.sourceignore, spec.ignore "
                    "or the default exclusions)" if excluded and path.is_dir() else
                    f"create the directory or fix spec.path; it is resolved against {self.root}")
            raise SourceError(f"kustomization path not found: {spec_path}", obj=obj,
                              field="spec.path", hint=hint)
        return path

    def relpath_of(self, path: Path) -> str:
        """POSIX path of `path` relative to the root ("" for the root itself)."""
        absolute = path if path.is_absolute() else self.root / path
        for candidate in (absolute, absolute.resolve()):
            if candidate == self.root or self.root in candidate.parents:
                rel = candidate.relative_to(self.root).as_posix()
                return "" if rel == "." else rel
        raise SourceError(f"{path} is outside the source root {self.root}",
                          hint="keep every referenced file inside the repository")

    def refuse_escaping_links(self, folder: Path, *, obj: str | None, what: str) -> None:
        """Raise `SourceError` when a symlink below `folder` leads outside the root.

        For trees a tool reads directly from the checkout (a Helm chart: helm follows symlinks).
        Links staying inside the root are followed, each real directory visited once.
        """
        real_root = str(self.root)
        seen: set[str] = set()
        for current, dirs, files in os.walk(folder, followlinks=True):
            real = os.path.realpath(current)
            if real in seen:
                dirs.clear()
                continue
            seen.add(real)
            for name in (*dirs, *files):
                path = os.path.join(current, name)
                if os.path.islink(path) and not _is_within(os.path.realpath(path), real_root):
                    raise SourceError(
                        f"{self.relpath_of(Path(current)) or '.'}/{name} is a symlink leading outside the "
                        "source root", obj=obj, field=what, hint="replace the symlink with the file itself")

    def copy_to(self, dest: Path) -> None:
        """Place every non-ignored file (the would-be artifact content) in `dest`, same layout.

        Files are hard links to the checkout's where the filesystem allows it (creating thousands of
        inodes takes seconds on some disks; a link costs a directory entry), else copies; symlinked
        files become regular files. Builds only read this tree and write their own new files in
        views beside it (see `render.kustomize.BuildWorkspace`), so the checkout is never changed.
        """
        made: set[Path] = set()
        linkable = True
        for rel in self.walk_files():
            target = dest / rel
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            source = self.root / rel
            if linkable and not source.is_symlink():  # a link to a symlink would still be one
                try:
                    os.link(source, target)
                    continue
                except OSError:  # another filesystem, or links not permitted: copy from now on
                    linkable = False
            shutil.copyfile(source, target)

    def _contain(self, path: str, *, obj: str | None, what: str) -> str:
        """Normalized relpath of `path` after checking that it stays inside the root."""
        rel = posixpath.normpath(path.replace("\\", "/").lstrip("/") or ".")
        hint = "use a path inside the repository, relative to its root (e.g. ./apps/my-app)"
        if rel == ".." or rel.startswith("../"):
            raise SourceError(f"path {path!r} escapes the source root", obj=obj, field=what, hint=hint)
        real = (self.root / rel).resolve()
        if real != self.root and self.root not in real.parents:
            raise SourceError(f"path {path!r} leads through a symlink outside the source root",
                              obj=obj, field=what, hint=hint)
        return rel


def load_source(root: str | Path, *, spec_ignore: str | None = None, ref_name: str | None = None) -> Source:
    """Load the checkout at `root` with its ignore rules and revision (named `ref_name` when given,
    see `git_revision`).

    The revision is the git one only when `root` is the top level of a git work tree: a folder
    inside a larger repository (a fixture, a `--source` mapping to a sub-tree) is not what that
    repository's commit names, and its content can change without a commit. Such folders, and
    trees outside git, get a content revision `sha256:<hex>` over the non-ignored files, so
    identical trees have identical revisions.
    """
    path = Path(root).resolve()
    if not path.is_dir():
        raise SourceError(f"source root not found: {root}", hint="pass the directory of a checkout")
    source = Source(path, "", IgnoreRules.load(path, spec_ignore))
    toplevel = _git(path, "rev-parse", "--show-toplevel")
    revision = git_revision(path, ref_name) if toplevel and Path(toplevel).resolve() == path else None
    return replace(source, revision=revision or _content_revision(path, source.walk_files()))
