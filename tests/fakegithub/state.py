"""What the fake GitHub knows: one App, its installations, tokens, pull requests and everything posted.

Tests seed it (`install`, `add_user_token`, `add_pull`, `add_comment`, `fail_next`) and read what the
client did from the recorded lists (`requests`, `comments`, `check_runs`, `statuses`, `deployments`,
`deployment_statuses`). All of it sits behind one lock, since the server answers from several threads.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

# Installation tokens live one hour on GitHub.
TOKEN_LIFETIME_SECONDS = 3600
# What GitHub answers when a secondary rate limit is hit (PyGithub recognises it by this wording).
SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
_LEVELS = {"read": 1, "write": 2, "admin": 3}


def iso(epoch: float) -> str:
    """GitHub's timestamp form, `2026-12-02T05:00:00Z`."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeApp:
    id: int
    client_id: str
    slug: str
    public_key: RSAPublicKey


@dataclass
class FakeInstallation:
    id: int
    owner: str
    repositories: set[str]  # full names the installation may access
    permissions: dict[str, str]


@dataclass
class FakeToken:
    """`installation` (minted by the App), `actions` (like GITHUB_TOKEN) or `user` (a PAT)."""

    token: str
    kind: str
    login: str
    permissions: dict[str, str] | None  # None: a classic PAT, everything the user may do
    repositories: set[str] | None  # None: every repository the principal can see
    expires_at: float | None
    installation_id: int | None = None

    def grants(self, name: str, level: str) -> bool:
        """Whether this token carries permission `name` at `level` or above."""
        if self.permissions is None:
            return True
        return _LEVELS.get(self.permissions.get(name, ""), 0) >= _LEVELS[level]


@dataclass
class FakeComment:
    id: int
    repo: str
    number: int
    body: str
    login: str
    created_at: float
    updated_at: float


@dataclass
class FakePull:
    repo: str
    number: int
    commits: set[str]  # shas the pull request is associated with (head, merge commit)
    merged: bool
    merge_commit_sha: str | None
    base_ref: str
    head_sha: str
    head_ref: str = ""  # set for pull requests opened through the API
    title: str = ""
    body: str = ""
    state: str = "open"


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the GHES prefix
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any
    status: int = 0


@dataclass
class Fault:
    """An answer to give instead of the real one, `times` times, for matching requests."""

    method: str
    pattern: re.Pattern[str]
    status: int
    message: str
    headers: dict[str, str]
    times: int


@dataclass
class GitHubState:
    """The fake's data; `clock` is shared with the client in tests that move time."""

    app: FakeApp
    clock: Callable[[], float] = time.time
    installations: dict[int, FakeInstallation] = field(default_factory=dict)
    tokens: dict[str, FakeToken] = field(default_factory=dict)
    pulls: list[FakePull] = field(default_factory=list)
    comments: list[FakeComment] = field(default_factory=list)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    deployment_statuses: list[dict[str, Any]] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    git_root: Path | None = None  # bare repositories `<owner>/<repo>.git` served over smart HTTP
    git_requests: list[tuple[str, str, int, float]] = field(default_factory=list)  # method, path, status
    lock: threading.RLock = field(default_factory=threading.RLock)
    _next_id: int = 1000

    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def install(self, repository: str, permissions: dict[str, str]) -> FakeInstallation:
        """Install the App on `repository` (added to the owner's installation, made when absent)."""
        owner = repository.split("/")[0]
        with self.lock:
            for installation in self.installations.values():
                if installation.owner == owner:
                    installation.repositories.add(repository)
                    installation.permissions.update(permissions)
                    return installation
            installation = FakeInstallation(self.new_id(), owner, {repository}, dict(permissions))
            self.installations[installation.id] = installation
            return installation

    def installation_for(self, repository: str) -> FakeInstallation | None:
        with self.lock:
            return next((i for i in self.installations.values() if repository in i.repositories), None)

    def mint_installation_token(
        self, installation: FakeInstallation, permissions: dict[str, str], repositories: set[str]
    ) -> FakeToken:
        token = FakeToken(
            token=f"ghs_{secrets.token_urlsafe(27)}",
            kind="installation",
            login=f"{self.app.slug}[bot]",
            permissions=permissions,
            repositories=repositories,
            expires_at=self.clock() + TOKEN_LIFETIME_SECONDS,
            installation_id=installation.id,
        )
        with self.lock:
            self.tokens[token.token] = token
        return token

    def add_user_token(self, token: str, login: str) -> FakeToken:
        """A personal access token of `login`: any repository, every permission, no check runs."""
        with self.lock:
            self.tokens[token] = FakeToken(token, "user", login, None, None, None)
            return self.tokens[token]

    def add_actions_token(self, token: str, repository: str, permissions: dict[str, str]) -> FakeToken:
        """A GITHUB_TOKEN for `repository`: an installation token of the Actions app."""
        with self.lock:
            self.tokens[token] = FakeToken(
                token, "actions", "github-actions[bot]", permissions, {repository}, None
            )
            return self.tokens[token]

    def add_pull(
        self,
        repository: str,
        number: int,
        *,
        merged: bool = False,
        merge_commit_sha: str | None = None,
        head_sha: str | None = None,
        base_ref: str = "main",
    ) -> FakePull:
        head = head_sha or secrets.token_hex(20)
        commits = {head} | ({merge_commit_sha} if merge_commit_sha else set())
        pull = FakePull(repository, number, commits, merged, merge_commit_sha, base_ref, head)
        with self.lock:
            self.pulls.append(pull)
        return pull

    def bare_repository(self, repository: str) -> Path | None:
        """The bare repository serving `repository` over git's smart HTTP, if the test made one."""
        path = self.git_root / f"{repository}.git" if self.git_root else None
        return path if path is not None and path.is_dir() else None

    def open_pull(self, repository: str, head: str, base: str, title: str, body: str) -> FakePull:
        """A pull request opened through the API (`head` is a branch of `repository`)."""
        with self.lock:
            number = max((p.number for p in self.pulls if p.repo == repository), default=0) + 1
            pull = FakePull(repository, number, set(), False, None, base, "", head, title, body)
            self.pulls.append(pull)
            return pull

    def add_comment(self, repository: str, number: int, body: str, login: str) -> FakeComment:
        now = self.clock()
        comment = FakeComment(self.new_id(), repository, number, body, login, now, now)
        with self.lock:
            self.comments.append(comment)
        return comment

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 403,
        message: str = SECONDARY_RATE_LIMIT,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with `status` (a rate limit by default)."""
        with self.lock:
            self.faults.append(Fault(method, re.compile(path_regex), status, message, headers or {}, times))

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and fault.pattern.fullmatch(path):
                    fault.times -= 1
                    return fault
            return None

    def requests_to(self, method: str, path_regex: str) -> list[RecordedRequest]:
        """The recorded requests with this method whose path matches `path_regex` whole."""
        pattern = re.compile(path_regex)
        with self.lock:
            return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]
