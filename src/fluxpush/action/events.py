"""What triggered the run: `GITHUB_EVENT_NAME`, the payload at `GITHUB_EVENT_PATH`, and the run's context.

Only the fields fluxpush uses are read. For `pull_request` the commit to report on is the PR head
(`pull_request.head.sha`), not `GITHUB_SHA`, which is the synthetic merge commit; a PR whose head
repository is not this repository comes from a fork (it has no secrets and gets no cluster access).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fluxpush.errors import UsageError
from fluxpush.report.workflow import actions_run_url

SUPPORTED_EVENTS = ("push", "pull_request", "workflow_dispatch", "schedule", "registry_package",
                    "repository_dispatch")
# A merge commit's message (`Merge pull request #12 from …`) or a squash merge's title (`… (#12)`).
_MERGE_MESSAGE = re.compile(r"^Merge pull request #(\d+) from ")
_SQUASH_TITLE = re.compile(r"\(#(\d+)\)\s*$")


@dataclass(frozen=True, slots=True)
class PullRequest:
    """The pull request of a `pull_request` event."""

    number: int
    head_sha: str
    head_ref: str
    base_sha: str
    base_ref: str
    is_fork: bool


@dataclass(frozen=True, slots=True)
class RunContext:
    """The event and the run around it."""

    event_name: str
    repository: str
    sha: str  # the commit results are reported on
    default_branch: str
    server_url: str
    api_url: str
    run_id: str
    workspace: Path
    pull_request: PullRequest | None = None
    head_commit_message: str = ""

    @property
    def run_url(self) -> str | None:
        """The workflow run's page."""
        return actions_run_url(self.server_url, self.repository, self.run_id)

    def commit_url(self, sha: str) -> str | None:
        """A commit's page."""
        return f"{self.server_url}/{self.repository}/commit/{sha}" if self.server_url else None


def _load_payload(environ: Mapping[str, str]) -> dict[str, Any]:
    path = environ.get("GITHUB_EVENT_PATH")
    if not path:
        raise UsageError("GITHUB_EVENT_PATH is not set: not running inside a GitHub Actions step")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the event payload GITHUB_EVENT_PATH={path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"the event payload in {path} is not a JSON object")
    return data


def _pull_request(payload: Mapping[str, Any], repository: str) -> PullRequest:
    pull = payload.get("pull_request")
    if not isinstance(pull, dict):
        raise UsageError("the pull_request event payload has no `pull_request` object")
    head, base = pull.get("head") or {}, pull.get("base") or {}
    head_repo = (head.get("repo") or {}).get("full_name") or ""
    return PullRequest(
        number=int(pull.get("number") or payload.get("number") or 0),
        head_sha=str(head.get("sha") or ""),
        head_ref=str(head.get("ref") or ""),
        base_sha=str(base.get("sha") or ""),
        base_ref=str(base.get("ref") or ""),
        is_fork=bool((head.get("repo") or {}).get("fork")) or (bool(head_repo) and head_repo != repository),
    )


def read_context(environ: Mapping[str, str]) -> RunContext:
    """The run's context; a UsageError for an event fluxpush does not handle or a broken payload."""
    name = environ.get("GITHUB_EVENT_NAME", "")
    if name not in SUPPORTED_EVENTS:
        raise UsageError(
            f"event {name or '(none)'!r} is not supported; run fluxpush on {', '.join(SUPPORTED_EVENTS)}"
        )
    payload = _load_payload(environ)
    repository = environ.get("GITHUB_REPOSITORY") or (payload.get("repository") or {}).get("full_name", "")
    if not repository:
        raise UsageError("GITHUB_REPOSITORY is not set")
    pull = _pull_request(payload, repository) if name == "pull_request" else None
    sha = pull.head_sha if pull else str(payload.get("after") or environ.get("GITHUB_SHA") or "")
    if not sha:
        raise UsageError("no commit to report on: GITHUB_SHA is not set")
    head_commit = payload.get("head_commit") or {}
    return RunContext(
        event_name=name,
        repository=repository,
        sha=sha,
        default_branch=str((payload.get("repository") or {}).get("default_branch") or "main"),
        server_url=environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"),
        api_url=environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
        run_id=environ.get("GITHUB_RUN_ID", ""),
        workspace=Path(environ.get("GITHUB_WORKSPACE") or "."),
        pull_request=pull,
        head_commit_message=str(head_commit.get("message") or ""),
    )


def pulls_named_in_message(message: str) -> list[int]:
    """Pull request numbers a merge commit's message names (when GitHub's lookup finds none yet)."""
    first = message.split("\n", 1)[0]
    found = [int(m.group(1)) for m in (_MERGE_MESSAGE.match(first), _SQUASH_TITLE.search(first)) if m]
    return list(dict.fromkeys(found))
