"""The fake GitHub's HTTP side: a threaded server on 127.0.0.1 that records and routes every request.

with FakeGitHub(public_key) as github:       # serves on http://127.0.0.1:<port>[/api/v3]
    github.state.install("o/r", {...})
    Github(base_url=github.base_url, ...)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from .auth import Refusal, bearer, check_app_jwt, check_token
from .githttp import serve_git
from .routes import ROUTES, Call, Reply, check_route_access
from .state import FakeApp, GitHubState, RecordedRequest

DOCS_URL = "https://docs.github.com/rest"


class FakeGitHub:
    """A local GitHub REST API for one App; `prefix="/api/v3"` makes it look like GitHub Enterprise Server."""

    def __init__(
        self,
        app_public_key: RSAPublicKey,
        *,
        app_id: int = 424242,
        client_id: str = "Iv23liFakeClientId",
        slug: str = "fluxpush-test",
        prefix: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = GitHubState(FakeApp(app_id, client_id, slug, app_public_key), clock)
        self.prefix = prefix.rstrip("/")
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-github", daemon=True
        )

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The API base URL to give PyGithub (and GITHUB_API_URL)."""
        return f"{self.web_url}{self.prefix}"

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def serve(self, method: str, raw_path: str, headers: dict[str, str], body: Any) -> Reply:
        """Answer one request: fault injection, routing, authentication, permissions, then the handler."""
        url = urlsplit(raw_path)
        path = url.path
        record = RecordedRequest(method, path, dict(parse_qsl(url.query)), headers, body)
        with self.state.lock:
            self.state.requests.append(record)
        try:
            if self.prefix:
                if not path.startswith(self.prefix + "/"):
                    raise Refusal(404, "Not Found")
                path = record.path = path[len(self.prefix) :]
            reply = self._dispatch(method, path, record)
        except Refusal as refusal:
            data: dict[str, Any] = {"message": refusal.message, "documentation_url": DOCS_URL}
            if refusal.errors:
                data["errors"] = refusal.errors
            reply = Reply(refusal.status, data, refusal.headers)
        record.status = reply.status
        return reply

    def _dispatch(self, method: str, path: str, record: RecordedRequest) -> Reply:
        fault = self.state.take_fault(method, path)
        if fault is not None:
            raise Refusal(fault.status, fault.message, fault.headers)
        for candidate in ROUTES:
            match = candidate.pattern.fullmatch(path)
            if candidate.method == method and match:
                break
        else:
            raise Refusal(404, "Not Found")
        authorization = record.headers.get("authorization")
        token = claims = None
        if candidate.auth == "jwt":
            claims = check_app_jwt(bearer(authorization), self.state.app, self.state.clock())
        else:
            token = check_token(self.state, authorization)
        call = Call(
            self.state,
            self.base_url,
            self.web_url,
            match.groupdict(),
            record.query,
            record.body,
            token,
            claims,
        )
        check_route_access(candidate, call)
        return candidate.handler(call)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests' connection pool expects

    def _handle(self) -> None:
        fake: FakeGitHub = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        url = urlsplit(self.path)
        git = serve_git(fake.state, self.command, url.path, url.query, headers, raw)
        if git is not None:
            self._send(git[0], git[1], git[2])
            return
        body = json.loads(raw) if raw else None
        reply = fake.serve(self.command, self.path, headers, body)
        payload = json.dumps(reply.body).encode() if reply.body is not None else b""
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the recorded requests are the log."""
