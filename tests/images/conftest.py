"""Image registries for the image automation tests: the real `docker-registry` on loopback with
images pushed through the distribution API, optionally behind a bearer-token gate."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from registry_server import ImageRegistry, running_registry


@pytest.fixture
def image_registry(tmp_path: Path) -> Iterator[ImageRegistry]:
    """A fresh `docker-registry` on loopback (plain HTTP), empty until `push`."""
    with running_registry(tmp_path) as host:
        yield ImageRegistry(host)


@dataclass
class Gate:
    """A bearer-token front for a registry: 401 with a challenge, a token service that wants basic
    credentials `user:password`, and the registry's answers passed through for a valid token."""

    upstream: str
    credentials: str
    host: str = ""
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    seen: list[tuple[str, str]] = field(default_factory=list)  # (path, Authorization)


def _page(path: str, body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """Distribution 2.8 answers the whole list; the gate pages it as ghcr.io or Docker Hub do
    (`n`, `last`, and a `Link: <…>; rel="next"` header while more remain)."""
    route, _, query = path.partition("?")
    params = dict(urllib.parse.parse_qsl(query))
    page = json.loads(body)
    tags = sorted(page.get("tags") or [])
    if "last" in params:
        tags = [t for t in tags if t > params["last"]]
    size = int(params.get("n", len(tags) or 1))
    page["tags"] = tags[:size]
    if len(tags) > size:
        headers = {**headers, "Link": f'<{route}?n={size}&last={tags[size - 1]}>; rel="next"'}
    return json.dumps(page).encode(), headers


def _gate_handler(gate: Gate) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _token(self) -> None:
            expected = "Basic " + base64.b64encode(gate.credentials.encode()).decode()
            if self.headers.get("Authorization") != expected:
                self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {})
                return
            self._reply(200, json.dumps({"token": gate.token}).encode(), {"Content-Type": "application/json"})

        def do_GET(self) -> None:
            gate.seen.append((self.path, self.headers.get("Authorization", "")))
            if self.path.startswith("/token"):
                self._token()
                return
            if self.headers.get("Authorization") != f"Bearer {gate.token}":
                name = self.path.split("/v2/", 1)[-1].rsplit("/tags/", 1)[0].rsplit("/manifests/", 1)[0]
                challenge = (f'Bearer realm="http://{gate.host}/token",service="gate",'
                             f'scope="repository:{name}:pull"')
                self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": challenge})
                return
            request = urllib.request.Request(f"http://{gate.upstream}{self.path}", method=self.command,
                                             headers={"Accept": self.headers.get("Accept", "*/*")})
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    body, status, headers = answer.read(), answer.status, answer.headers
            except urllib.error.HTTPError as exc:
                body, status, headers = exc.read(), exc.code, exc.headers
            passed = {k: v for k, v in headers.items() if k in ("Docker-Content-Digest", "Content-Type")}
            if "/tags/list" in self.path and status == 200:
                body, passed = _page(self.path, body, passed)
            self._reply(status, body, passed)

        do_HEAD = do_GET

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def gated_registry(image_registry: ImageRegistry) -> Iterator[tuple[ImageRegistry, Gate]]:
    """`image_registry` behind a bearer-token gate that accepts `robot:s3cret-pass`."""
    gate = Gate(image_registry.host, "robot:s3cret-pass")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _gate_handler(gate))
    gate.host = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield image_registry, gate
    finally:
        server.shutdown()
        server.server_close()
