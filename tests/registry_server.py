"""Debian's `docker-registry` (distribution) on loopback, for OCI charts and image tags alike."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_registry(root: Path) -> Iterator[str]:
    """A fresh registry process serving plain HTTP on loopback; yields its `127.0.0.1:PORT`."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    config = root / "registry.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root / 'registry'}\n"
                      f"http:\n  addr: 127.0.0.1:{port}\nlog:\n  level: error\n")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _send(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    return urllib.request.urlopen(request, timeout=10)


@dataclass
class ImageRegistry:
    """The registry at `host`; `push` stores a minimal image under each tag (each with its own digest)."""

    host: str
    digests: dict[str, str] = field(default_factory=dict)  # "repo:tag" -> manifest digest

    def _blob(self, repository: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with _send("POST", f"http://{self.host}/v2/{repository}/blobs/uploads/") as answer:
            location = answer.headers["Location"]
        separator = "&" if "?" in location else "?"
        target = location if location.startswith("http") else f"http://{self.host}{location}"
        _send("PUT", f"{target}{separator}digest={digest}", data,
              {"Content-Type": "application/octet-stream"}).close()
        return digest

    def push(self, repository: str, tags: list[str]) -> None:
        """Push one small image per tag (the tag is in an annotation, so digests differ)."""
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        config_digest = self._blob(repository, config)
        layer = b"fluxpush test layer"
        layer_digest = self._blob(repository, layer)
        for tag in tags:
            manifest = json.dumps({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                           "size": len(config)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest,
                            "size": len(layer)}],
                "annotations": {"org.opencontainers.image.version": tag},
            }).encode()
            _send("PUT", f"http://{self.host}/v2/{repository}/manifests/{tag}", manifest,
                  {"Content-Type": OCI_MANIFEST}).close()
            self.digests[f"{repository}:{tag}"] = "sha256:" + hashlib.sha256(manifest).hexdigest()


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


@contextmanager
def gated(upstream: str, credentials: str) -> Iterator[Gate]:
    """A bearer-token gate on loopback in front of the registry at `upstream`."""
    gate = Gate(upstream, credentials)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _gate_handler(gate))
    gate.host = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gate
    finally:
        server.shutdown()
        server.server_close()
