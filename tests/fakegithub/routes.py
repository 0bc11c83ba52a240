"""The REST endpoints the fake serves, in the JSON shapes PyGithub reads.

Each route names how it is authenticated (`jwt` or `token`) and which permissions may call it (any one
of the alternatives). URLs in bodies use the fake's own address, since PyGithub only follows those.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .auth import Refusal, check_access
from .shapes import app_json, comment_json, installation_json, pull_json, repo_json, user_json
from .state import FakePull, FakeToken, GitHubState, iso

# Comment bodies and the 422 GitHub answers above this length.
COMMENT_MAX = 65_536
# Commit/deployment status descriptions above this length are refused with 422.
DESCRIPTION_MAX = 140


@dataclass
class Call:
    """One request as a route sees it."""

    state: GitHubState
    api: str  # API base URL, with the GHES prefix when there is one
    web: str  # the "html" side of the same server
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    token: FakeToken | None
    claims: dict[str, Any] | None

    @property
    def repo(self) -> str:
        return f"{self.params['owner']}/{self.params['repo']}"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    auth: str  # "jwt" or "token"
    permissions: tuple[tuple[str, str], ...]
    handler: Callable[[Call], Reply]


ROUTES: list[Route] = []
_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


def route(method: str, path: str, auth: str = "token", *permissions: tuple[str, str]) -> Callable:
    def register(handler: Callable[[Call], Reply]) -> Callable[[Call], Reply]:
        ROUTES.append(Route(method, re.compile(path.replace("{repo}", _REPO)), auth, permissions, handler))
        return handler

    return register


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, body, headers or {})


def invalid(message: str, resource: str, field: str) -> Refusal:
    return Refusal(
        422,
        "Validation Failed",
        errors=[{"resource": resource, "code": "custom", "field": field, "message": message}],
    )


@route("GET", "/app", "jwt")
def get_app(call: Call) -> Reply:
    return ok(app_json(call.state.app, call.web))


@route("GET", "{repo}/installation", "jwt")
def get_repo_installation(call: Call) -> Reply:
    installation = call.state.installation_for(call.repo)
    if installation is None:
        raise Refusal(404, "Not Found")
    return ok(installation_json(call, installation))


@route("POST", r"/app/installations/(?P<id>\d+)/access_tokens", "jwt")
def create_access_token(call: Call) -> Reply:
    installation = call.state.installations.get(int(call.params["id"]))
    if installation is None:
        raise Refusal(404, "Not Found")
    body = call.body or {}
    names = body.get("repositories")
    repos = {f"{installation.owner}/{name}" for name in names} if names else set(installation.repositories)
    if not repos <= installation.repositories:
        raise Refusal(
            422,
            "There is at least one repository that does not exist or is not accessible to the parent "
            "installation.",
        )
    wanted = body.get("permissions") or dict(installation.permissions)
    granted = FakeToken("", "installation", "", installation.permissions, None, None)
    if not all(granted.grants(name, level) for name, level in wanted.items()):
        raise Refusal(422, "The permissions requested are not granted to this installation.")
    token = call.state.mint_installation_token(installation, dict(wanted), repos)
    assert token.expires_at is not None
    reply = {
        "token": token.token,
        "expires_at": iso(token.expires_at),
        "permissions": dict(wanted),
        "repository_selection": "selected",
        "repositories": [repo_json(call, full) for full in sorted(repos)],
    }
    return ok(reply, 201)


@route("GET", "/user")
def get_user(call: Call) -> Reply:
    assert call.token is not None
    if call.token.kind != "user":
        raise Refusal(403, "Resource not accessible by integration")
    return ok(user_json(call.token.login))


@route("GET", "{repo}", "token", ("metadata", "read"))
def get_repo(call: Call) -> Reply:
    return ok(repo_json(call, call.repo))


def _find_pull(call: Call, number: int) -> FakePull:
    pull = next((p for p in call.state.pulls if p.repo == call.repo and p.number == number), None)
    if pull is None:
        raise Refusal(404, "Not Found")
    return pull


@route("GET", r"{repo}/pulls", "token", ("pull_requests", "read"))
def list_pulls(call: Call) -> Reply:
    """Open pull requests, filtered by `head` (`owner:branch`) and `base` as GitHub does."""
    owner = call.params["owner"]
    found = [p for p in call.state.pulls if p.repo == call.repo and not p.merged
             and (call.query.get("state", "open") in ("all", p.state))
             and ("head" not in call.query or call.query["head"] == f"{owner}:{p.head_ref}")
             and ("base" not in call.query or call.query["base"] == p.base_ref)]
    return ok([pull_json(call, p) for p in found])


def _branch_sha(call: Call, branch: str) -> str | None:
    bare = call.state.bare_repository(call.repo)
    if bare is None:
        return None
    done = subprocess.run(["git", "-C", str(bare), "rev-parse", "--verify", "-q", f"refs/heads/{branch}"],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


@route("POST", r"{repo}/pulls", "token", ("pull_requests", "write"))
def create_pull(call: Call) -> Reply:
    """Open a pull request; 422 when `head` is not a branch or one is already open for it."""
    head, base = str(call.body.get("head", "")), str(call.body.get("base", ""))
    branch = head.split(":", 1)[-1]
    sha = _branch_sha(call, branch)
    if sha is None:
        raise invalid(f"head {head!r} is not a branch of {call.repo}", "PullRequest", "head")
    if any(p.repo == call.repo and p.head_ref == branch and p.state == "open" for p in call.state.pulls):
        owner = call.params["owner"]
        raise invalid(f"A pull request already exists for {owner}:{branch}.", "PullRequest", "")
    pull = call.state.open_pull(call.repo, branch, base, str(call.body.get("title", "")),
                                str(call.body.get("body") or ""))
    pull.head_sha, pull.commits = sha, {sha}
    return ok(pull_json(call, pull), 201)


@route("PATCH", r"{repo}/pulls/(?P<number>\d+)", "token", ("pull_requests", "write"))
def update_pull(call: Call) -> Reply:
    pull = _find_pull(call, int(call.params["number"]))
    pull.title = str(call.body.get("title", pull.title))
    pull.body = str(call.body.get("body", pull.body))
    sha = _branch_sha(call, pull.head_ref) if pull.head_ref else None
    if sha:
        pull.head_sha = sha
        pull.commits.add(sha)
    return ok(pull_json(call, pull))


def _page_links(call: Call, path: str, page: int, per_page: int, pages: int) -> str:
    def link(number: int, rel: str) -> str:
        return f'<{call.api}{path}?page={number}&per_page={per_page}>; rel="{rel}"'

    links = []
    if page < pages:
        links += [link(page + 1, "next"), link(pages, "last")]
    if page > 1:
        links += [link(1, "first"), link(page - 1, "prev")]
    return ", ".join(links)


@route(
    "GET", r"{repo}/issues/(?P<number>\d+)/comments", "token", ("issues", "read"), ("pull_requests", "read")
)
def list_comments(call: Call) -> Reply:
    number = int(call.params["number"])
    _find_pull(call, number)
    with call.state.lock:
        items = [c for c in call.state.comments if c.repo == call.repo and c.number == number]
    per_page = min(int(call.query.get("per_page", 30)), 100)
    page = max(int(call.query.get("page", 1)), 1)
    pages = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = _page_links(call, f"/repos/{call.repo}/issues/{number}/comments", page, per_page, pages)
    return ok([comment_json(call, c) for c in chunk], headers={"Link": links} if links else {})


def _comment_body(call: Call) -> str:
    body = (call.body or {}).get("body")
    if not isinstance(body, str) or not body:
        raise invalid("body is missing", "IssueComment", "body")
    if len(body) > COMMENT_MAX:
        raise invalid(f"Body is too long (maximum is {COMMENT_MAX} characters)", "IssueComment", "body")
    return body


@route(
    "POST",
    r"{repo}/issues/(?P<number>\d+)/comments",
    "token",
    ("issues", "write"),
    ("pull_requests", "write"),
)
def create_comment(call: Call) -> Reply:
    number = int(call.params["number"])
    _find_pull(call, number)
    assert call.token is not None
    comment = call.state.add_comment(call.repo, number, _comment_body(call), call.token.login)
    return ok(comment_json(call, comment), 201)


@route(
    "PATCH", r"{repo}/issues/comments/(?P<id>\d+)", "token", ("issues", "write"), ("pull_requests", "write")
)
def edit_comment(call: Call) -> Reply:
    body = _comment_body(call)
    with call.state.lock:
        comment = next((c for c in call.state.comments if c.id == int(call.params["id"])), None)
        if comment is None or comment.repo != call.repo:
            raise Refusal(404, "Not Found")
        comment.body = body
        comment.updated_at = call.state.clock()
    return ok(comment_json(call, comment))


@route("GET", r"{repo}/commits/(?P<sha>[^/]+)", "token", ("contents", "read"))
def get_commit(call: Call) -> Reply:
    sha = call.params["sha"]
    return ok({"sha": sha, "url": f"{call.api}/repos/{call.repo}/commits/{sha}", "commit": {"message": ""}})


@route("GET", r"{repo}/commits/(?P<sha>[^/]+)/pulls", "token", ("pull_requests", "read"))
def list_commit_pulls(call: Call) -> Reply:
    sha = call.params["sha"]
    found = [p for p in call.state.pulls if p.repo == call.repo and sha in p.commits]
    return ok([pull_json(call, p) for p in found])


def _record(call: Call, store: list[dict[str, Any]], item: dict[str, Any]) -> Reply:
    with call.state.lock:
        store.append(item)
    return ok(item, 201)


@route("POST", r"{repo}/check-runs", "token", ("checks", "write"))
def create_check_run(call: Call) -> Reply:
    assert call.token is not None
    if call.token.kind == "user":
        raise Refusal(403, "You must authenticate via a GitHub App.")
    body = dict(call.body or {})
    run_id = call.state.new_id()
    item = {
        **body,
        "id": run_id,
        "status": body.get("status", "queued"),
        "conclusion": body.get("conclusion"),
        "url": f"{call.api}/repos/{call.repo}/check-runs/{run_id}",
        "html_url": f"{call.web}/{call.repo}/runs/{run_id}",
        "app": app_json(call.state.app, call.web),
        "pull_requests": [],
    }
    return _record(call, call.state.check_runs, item)


@route("PATCH", r"{repo}/check-runs/(?P<id>\d+)", "token", ("checks", "write"))
def update_check_run(call: Call) -> Reply:
    with call.state.lock:
        run = next((r for r in call.state.check_runs if r["id"] == int(call.params["id"])), None)
        if run is None:
            raise Refusal(404, "Not Found")
        run.update(call.body or {})
        run.setdefault("updates", []).append(dict(call.body or {}))
    return ok(run)


def _description(call: Call, resource: str) -> None:
    if len((call.body or {}).get("description") or "") > DESCRIPTION_MAX:
        raise invalid(
            f"description is too long (maximum is {DESCRIPTION_MAX} characters)", resource, "description"
        )


@route("POST", r"{repo}/statuses/(?P<sha>[0-9a-f]+)", "token", ("statuses", "write"))
def create_status(call: Call) -> Reply:
    _description(call, "Status")
    status_id = call.state.new_id()
    item = {
        **(call.body or {}),
        "id": status_id,
        "sha": call.params["sha"],
        "context": (call.body or {}).get("context", "default"),
        "url": f"{call.api}/repos/{call.repo}/statuses/{call.params['sha']}",
        "created_at": iso(call.state.clock()),
    }
    return _record(call, call.state.statuses, item)


@route("POST", r"{repo}/deployments", "token", ("deployments", "write"))
def create_deployment(call: Call) -> Reply:
    deployment_id = call.state.new_id()
    body = dict(call.body or {})
    url = f"{call.api}/repos/{call.repo}/deployments/{deployment_id}"
    item = {
        **body,
        "id": deployment_id,
        "sha": body.get("ref"),
        "url": url,
        "statuses_url": f"{url}/statuses",
        "repository_url": f"{call.api}/repos/{call.repo}",
        "created_at": iso(call.state.clock()),
        "updated_at": iso(call.state.clock()),
    }
    return _record(call, call.state.deployments, item)


@route("POST", r"{repo}/deployments/(?P<id>\d+)/statuses", "token", ("deployments", "write"))
def create_deployment_status(call: Call) -> Reply:
    deployment_id = int(call.params["id"])
    if not any(d["id"] == deployment_id for d in call.state.deployments):
        raise Refusal(404, "Not Found")
    _description(call, "DeploymentStatus")
    status_id = call.state.new_id()
    url = f"{call.api}/repos/{call.repo}/deployments/{deployment_id}"
    item = {
        **(call.body or {}),
        "id": status_id,
        "deployment_id": deployment_id,
        "deployment_url": url,
        "url": f"{url}/statuses/{status_id}",
        "created_at": iso(call.state.clock()),
    }
    return _record(call, call.state.deployment_statuses, item)


def check_route_access(route_: Route, call: Call) -> None:
    """Scope and permission checks for token routes on a repository."""
    if route_.auth == "token" and call.token is not None:
        check_access(call.token, call.repo if "owner" in call.params else None, route_.permissions)
