"""Git over smart HTTP for the fake GitHub: `http://HOST/<owner>/<repo>.git/...` answered by the real
`git http-backend` from the bare repository in `state.git_root`, with GitHub's rule for tokens: basic
auth with any user name and the token as password; fetching needs `contents: read`, pushing
`contents: write`, and the token must cover the repository."""

from __future__ import annotations

import base64
import re
import subprocess
import time

from .state import GitHubState

GIT_PATH = re.compile(r"^/(?P<repo>[^/]+/[^/]+)\.git(?P<rest>/.*)$")


def _token_allows(state: GitHubState, authorization: str, repository: str, level: str) -> bool:
    if not authorization.startswith("Basic "):
        return False
    try:
        _, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
    except ValueError:
        return False
    token = state.tokens.get(secret)
    if token is None or (token.expires_at is not None and token.expires_at < state.clock()):
        return False
    if token.repositories is not None and repository not in token.repositories:
        return False
    return token.grants("contents", level)


def serve_git(state: GitHubState, method: str, path: str, query: str, headers: dict[str, str],
              body: bytes) -> tuple[int, dict[str, str], bytes] | None:
    """The answer to a git smart-HTTP request, or None when `path` is not a repository's git path."""
    match = GIT_PATH.match(path)
    if match is None:
        return None
    repository = match["repo"]
    bare = state.bare_repository(repository)
    if bare is None:
        return 404, {"Content-Type": "text/plain"}, b"Repository not found.\n"
    pushing = "git-receive-pack" in path or "service=git-receive-pack" in query
    if not _token_allows(state, headers.get("authorization", ""), repository, "write" if pushing else "read"):
        return 401, {"WWW-Authenticate": 'Basic realm="GitHub"', "Content-Type": "text/plain"}, b"denied\n"
    env = {"GIT_PROJECT_ROOT": str(state.git_root), "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path,
           "REQUEST_METHOD": method, "QUERY_STRING": query, "CONTENT_TYPE": headers.get("content-type", ""),
           "CONTENT_LENGTH": str(len(body)), "REMOTE_USER": "x-access-token", "REMOTE_ADDR": "127.0.0.1",
           "PATH": "/usr/bin:/bin", "HTTP_CONTENT_ENCODING": headers.get("content-encoding", ""),
           "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.receivepack", "GIT_CONFIG_VALUE_0": "true"}
    done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60,
                          check=False)
    head, _, payload = done.stdout.partition(b"\r\n\r\n")
    status, answer = 200, {}
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            answer[name] = value.strip()
    with state.lock:
        state.git_requests.append((method, path, status, time.time()))
    return status, answer, payload
