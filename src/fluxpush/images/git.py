"""Committing an automation's changes with git, and pushing them.

The commit is built with plumbing (a private index, `hash-object`, `write-tree`, `commit-tree`) on top
of the checkout's HEAD, so a push branch other than the current one is written without touching the
work tree; when the push branch is the current branch the changed files are also written and staged.
Author and committer are `git.commit.author`, as image-automation-controller sets them. A file with
uncommitted changes is refused rather than committed with them.
"""

from __future__ import annotations

import base64
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fluxpush.errors import FluxpushError, InputError, RenderError
from fluxpush.images.setters import FileUpdate
from fluxpush.runner import run_command


class GitError(FluxpushError):
    """A git command failed; the message names what was being done."""


def _git(root: Path, *args: str, env: dict[str, str] | None = None, what: str = "git failed") -> str:
    """git with the minimal child environment (runner.py) plus `env`: no credentials leak into it."""
    try:
        return run_command(["git", "-C", str(root), *args], env=env, what=what).stdout.strip()
    except RenderError as exc:  # its argv may carry the push credentials: only stderr's last line is kept
        tail = (exc.stderr or "").strip().splitlines()
        raise GitError(f"{what}: {tail[-1]}" if tail else what) from None


def current_branch(root: Path) -> str:
    """The checked-out branch, or "" for a detached HEAD."""
    try:
        return _git(root, "symbolic-ref", "--quiet", "--short", "HEAD", what="reading the current branch")
    except GitError:
        return ""


@dataclass(frozen=True, slots=True)
class Commit:
    """A commit made for an automation: its sha, its parent, the branch it was written to, and where
    that branch pointed before when it was not the parent (its earlier commits are replaced)."""

    sha: str
    parent: str
    branch: str
    replaced: str | None = None


def _refuse_dirty(root: Path, files: list[FileUpdate]) -> None:
    dirty = _git(root, "status", "--porcelain", "--", *[f.path for f in files], what="checking the files")
    if dirty:
        paths = ", ".join(line.split(maxsplit=1)[-1] for line in dirty.splitlines())
        raise InputError(f"uncommitted changes in {paths}: image-update commits what Git holds",
                         hint="commit or stash them first, or use --dry-run")


def _tree(root: Path, parent: str, files: list[FileUpdate], scratch: Path) -> str:
    env = {"GIT_INDEX_FILE": str(scratch / "index")}
    _git(root, "read-tree", parent, env=env, what="reading the parent commit")
    for number, update in enumerate(files):
        blob_file = scratch / f"blob-{number}"
        blob_file.write_bytes(update.after.encode("utf-8"))
        blob = _git(root, "hash-object", "-w", "--no-filters", str(blob_file), what="storing a file")
        entry = _git(root, "ls-files", "-s", "--", update.path, env=env, what="reading a file's mode")
        mode = entry.split(" ", 1)[0] if entry else "100644"
        _git(root, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{update.path}", env=env,
             what="staging a file")
    return _git(root, "write-tree", env=env, what="writing the tree")


def commit_updates(root: Path, files: list[FileUpdate], message: str, author: tuple[str, str],
                   branch: str, base: str) -> Commit:
    """Commit `files` on top of HEAD as `author` (name, email) and point `branch` at the commit.

    HEAD must be `base`, the branch the automation checks out: its changes were computed from it."""
    on = current_branch(root)
    if on != base:
        raise InputError(f"the automation checks out branch {base!r}, but this checkout is on "
                         f"{on or 'a detached HEAD'}", hint=f"check out {base} first, or use --dry-run")
    _refuse_dirty(root, files)
    parent = _git(root, "rev-parse", "--verify", "HEAD^{commit}", what="reading HEAD")
    name, email = author
    identity = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
                "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    with tempfile.TemporaryDirectory(prefix="fluxpush-images-") as scratch:
        tree = _tree(root, parent, files, Path(scratch))
        message_file = Path(scratch) / "message"
        message_file.write_text(message, encoding="utf-8")
        sha = _git(root, "commit-tree", tree, "-p", parent, "-F", str(message_file),
                   env=identity, what="creating the commit")
    if current_branch(root) == branch:
        _git(root, "update-ref", f"refs/heads/{branch}", sha, parent, what=f"moving {branch}")
        for update in files:
            (root / update.path).write_bytes(update.after.encode("utf-8"))
        _git(root, "add", "--", *[f.path for f in files], what="staging the changed files")
        return Commit(sha, parent, branch)
    try:
        before = _git(root, "rev-parse", "--verify", "-q", f"refs/heads/{branch}", what="reading the branch")
    except GitError:
        before = ""
    _git(root, "update-ref", f"refs/heads/{branch}", sha, what=f"writing branch {branch}")
    return Commit(sha, parent, branch, before if before and before != parent else None)


def push_remote(server_url: str, repository: str, token: str | None) -> tuple[str, list[str]]:
    """Where to push `repository` and the git options that authenticate it: the one place the
    token meets git. The token goes in an `http.extraHeader` (as actions/checkout does), never in the
    URL, so git's own messages cannot show it."""
    url = f"{server_url.rstrip('/')}/{repository}.git"
    if not token or not url.startswith(("http://", "https://")):
        return url, []
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return url, ["-c", f"http.extraHeader=Authorization: Basic {basic}"]


def push_commit(root: Path, commit: Commit, remote: tuple[str, list[str]], *, force: bool) -> None:
    """Push `commit` to its branch on `remote` (forced for a pull request branch rebuilt each run)."""
    url, options = remote
    refspec = f"{'+' if force else ''}{commit.sha}:refs/heads/{commit.branch}"
    _git(root, *options, "push", "--porcelain", url, refspec, env={"GIT_TERMINAL_PROMPT": "0"},
         what=f"pushing to {commit.branch} (the branch may have moved: run again)" if not force
         else f"pushing to {commit.branch}")
