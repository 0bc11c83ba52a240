"""The JSON shapes of GitHub objects, as PyGithub reads them, with URLs on the fake's own address."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from .state import FakeApp, FakeComment, FakeInstallation, FakePull, iso

if TYPE_CHECKING:
    from .routes import Call


def user_json(login: str, user_id: int = 1) -> dict[str, Any]:
    return {"login": login, "id": user_id, "type": "Bot" if login.endswith("[bot]") else "User"}


def app_json(app: FakeApp, web: str) -> dict[str, Any]:
    return {
        "id": app.id,
        "slug": app.slug,
        "client_id": app.client_id,
        "name": app.slug,
        "owner": user_json("fluxpush-org"),
        "html_url": f"{web}/apps/{app.slug}",
        "permissions": {},
        "events": [],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def installation_json(call: Call, installation: FakeInstallation) -> dict[str, Any]:
    return {
        "id": installation.id,
        "app_id": call.state.app.id,
        "app_slug": call.state.app.slug,
        "account": user_json(installation.owner),
        "target_type": "Organization",
        "permissions": dict(installation.permissions),
        "repository_selection": "selected",
        "access_tokens_url": f"{call.api}/app/installations/{installation.id}/access_tokens",
        "html_url": f"{call.web}/organizations/{installation.owner}/settings/installations/{installation.id}",
        "events": [],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def repo_json(call: Call, full_name: str) -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "id": zlib.crc32(full_name.encode()),
        "name": name,
        "full_name": full_name,
        "owner": user_json(owner),
        "url": f"{call.api}/repos/{full_name}",
        "html_url": f"{call.web}/{full_name}",
        "default_branch": "main",
        "private": True,
    }


def comment_json(call: Call, comment: FakeComment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "url": f"{call.api}/repos/{comment.repo}/issues/comments/{comment.id}",
        "html_url": f"{call.web}/{comment.repo}/pull/{comment.number}#issuecomment-{comment.id}",
        "issue_url": f"{call.api}/repos/{comment.repo}/issues/{comment.number}",
        "body": comment.body,
        "user": user_json(comment.login),
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.updated_at),
        "author_association": "NONE",
    }


def pull_json(call: Call, pull: FakePull) -> dict[str, Any]:
    return {
        "id": pull.number * 7919,
        "number": pull.number,
        "url": f"{call.api}/repos/{pull.repo}/pulls/{pull.number}",
        "html_url": f"{call.web}/{pull.repo}/pull/{pull.number}",
        "issue_url": f"{call.api}/repos/{pull.repo}/issues/{pull.number}",
        "state": "closed" if pull.merged else pull.state,
        "merged_at": "2026-12-01T12:00:00Z" if pull.merged else None,
        "merge_commit_sha": pull.merge_commit_sha,
        "base": {"ref": pull.base_ref, "sha": "0" * 40},
        "head": {"ref": pull.head_ref or f"feature-{pull.number}", "sha": pull.head_sha},
        "title": pull.title or f"Pull request {pull.number}",
        "body": pull.body,
        "user": user_json("octocat"),
    }
