"""GitHub providers: `githubdispatch` (repository_dispatch) and `github` (commit status)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from fluxpush.errors import ReportError
from fluxpush.report.events import PROGRESSING, SEVERITY_ERROR, Event, encode_json
from fluxpush.report.notify.http import ProviderClient
from fluxpush.report.notify.secrets import ProviderSettings

# go-github's request headers (API version pinned by the client library Flux uses).
GITHUB_HEADERS = {"Accept": "application/vnd.github.v3+json", "X-GitHub-Api-Version": "2022-11-28"}

# Flux lists this many statuses to find a duplicate of the one it is about to post.
STATUS_PAGE_SIZE = 50

# A commit hash as it appears in a revision (`main@sha1:<hex>`, `sha1:<hex>`, legacy `main/<hex>`).
_HASH = re.compile(r"^[0-9a-f]{7,64}$")
_CAMEL_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


@dataclass(frozen=True, slots=True)
class GitHubRepository:
    """A GitHub repository and the API base URL that serves it."""

    api: str
    owner: str
    repo: str

    def url(self, *parts: str) -> str:
        """`<api>/repos/<owner>/<repo>/<parts…>`."""
        return "/".join([self.api, "repos", quote(self.owner), quote(self.repo), *parts])


def parse_repository(address: str) -> GitHubRepository:
    """`https://github.com/<owner>/<repo>` → api.github.com; any other host → `<host>/api/v3`.

    The address keeps its scheme for GitHub Enterprise hosts (Flux always uses https).
    """
    parts = urlsplit(address)
    path = parts.path.strip("/").removesuffix(".git").split("/")
    if not parts.hostname or len(path) != 2 or not all(path):
        raise ReportError("GitHub provider address must be https://<host>/<owner>/<repo>")
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    scheme = "https" if parts.scheme == "ssh" else parts.scheme
    api = "https://api.github.com" if parts.hostname == "github.com" else f"{scheme}://{host}/api/v3"
    return GitHubRepository(api, path[0], path[1])


def _auth(settings: ProviderSettings) -> dict[str, str]:
    if not settings.token:
        raise ReportError("GitHub providers need a 'token' in the Provider's secretRef "
                          "(GitHub App credentials are not supported by fluxpush)")
    return {**GITHUB_HEADERS, "Authorization": f"Bearer {settings.token}"}


def post_githubdispatch(event: Event, settings: ProviderSettings, transport: ProviderClient) -> None:
    """`repository_dispatch` with `event_type` `<Kind>/<name>.<namespace>` and the event as payload."""
    repository = parse_repository(settings.address)
    obj = event.involved_object
    body = {"event_type": f"{obj.kind}/{obj.name}.{obj.namespace}", "client_payload": event.to_wire()}
    transport.request("POST", repository.url("dispatches"), encode_json(body), _auth(settings))


def commit_of(event: Event) -> str:
    """The commit hash in (rewritten) metadata: `commit`, else `originRevision`, else `revision`."""
    for key in ("commit", "originRevision", "revision"):
        value = event.metadata.get(key, "")
        if value:
            candidate = value.rpartition("@")[2].rpartition(":")[2].rpartition("/")[2]
            if _HASH.match(candidate):
                return candidate
            raise ReportError(f"metadata {key} {value!r} holds no commit hash")
    raise ReportError("the event has no revision metadata to set a commit status on")


def status_context(event: Event, uid: str) -> str:
    """Flux's default context `<kind>/<name>/<first dash-segment of the Provider UID>`, lower case."""
    obj = event.involved_object
    return f"{obj.kind}/{obj.name}/{uid.split('-')[0]}".lower()


def status_description(reason: str) -> str:
    """The reason split on camel case, lower case: `ReconciliationSucceeded` → `reconciliation succeeded`."""
    return " ".join(_CAMEL_WORDS.findall(reason)).lower()


def _is_duplicate(statuses: object, status: dict[str, str]) -> bool:
    """Whether the newest status with the same context already has this state and description."""
    for seen in statuses if isinstance(statuses, list) else []:
        if isinstance(seen, dict) and seen.get("context") == status["context"]:
            return seen.get("state") == status["state"] and seen.get("description") == status["description"]
    return False


def post_github(event: Event, settings: ProviderSettings, transport: ProviderClient) -> None:
    """A commit status (`success`/`failure`) on the event's commit; skips progressing events."""
    if event.reason == PROGRESSING:
        return
    if settings.commit_status_expr:
        raise ReportError("spec.commitStatusExpr (CEL) is not supported by fluxpush; remove it to use "
                          "Flux's default context")
    repository = parse_repository(settings.address)
    sha = commit_of(event)
    headers = _auth(settings)
    status = {
        "state": "failure" if event.severity == SEVERITY_ERROR else "success",
        "description": status_description(event.reason),
        "context": status_context(event, settings.uid),
    }
    listed = transport.request("GET", repository.url("commits", sha, f"statuses?per_page={STATUS_PAGE_SIZE}"),
                               headers=headers)
    try:
        existing = json.loads(listed.body or b"[]")
    except ValueError:
        existing = []
    if not _is_duplicate(existing, status):
        transport.request("POST", repository.url("statuses", sha), encode_json(status), headers)
