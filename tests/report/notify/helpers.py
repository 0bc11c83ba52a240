"""Local HTTP receivers on 127.0.0.1 and builders for Provider/Alert objects, events and Secrets."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fluxpush.flux import parse_flux_object
from fluxpush.flux.model import Alert, Provider
from fluxpush.report.events import Event, build_event
from fluxpush.report.notify.http import RetryPolicy

NAMESPACE = "flux-system"
REVISION = "main@sha1:0123456789abcdef0123456789abcdef01234567"
SHA = "0123456789abcdef0123456789abcdef01234567"

# Retries as Flux does them (4), but with millisecond waits so a test stays fast.
FAST_RETRY = RetryPolicy(retries=4, min_wait=0.01, max_wait=0.05)


@dataclass(frozen=True)
class Received:
    """One request a receiver got."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A threaded HTTP server recording every request; answers are queued per path."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    answers: dict[str, list[tuple[int, bytes, dict[str, str]]]] = field(default_factory=dict)
    default: tuple[int, bytes, dict[str, str]] = (200, b"ok", {})
    delay: float = 0.0  # seconds before every answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, path: str, *answers: tuple[int, bytes] | tuple[int, bytes, dict[str, str]]) -> None:
        """Queue answers for `path`; once used up, the last one repeats."""
        self.answers[path] = [(a[0], a[1], a[2] if len(a) > 2 else {}) for a in answers]  # type: ignore[misc]

    def next_answer(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        queue = self.answers.get(path.split("?")[0])
        if not queue:
            return self.default
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path.split("?")[0] == path]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with receiver.lock:
                receiver.requests.append(Received(self.command, self.path,
                                                  {k.lower(): v for k, v in self.headers.items()},
                                                  body, time.monotonic()))
                status, payload, headers = receiver.next_answer(self.path)
            time.sleep(receiver.delay)
            with contextlib.suppress(OSError):  # the client gave up waiting (timeout tests)
                self._answer(status, payload, headers)

        def _answer(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def make_provider(name: str, provider_type: str, version: str = "v1beta3", namespace: str = NAMESPACE,
                  uid: str | None = None, **spec: Any) -> Provider:
    """A Provider parsed from its wire form, as discovery would parse it."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if uid:
        metadata["uid"] = uid
    parsed = parse_flux_object({"apiVersion": f"notification.toolkit.fluxcd.io/{version}", "kind": "Provider",
                                "metadata": metadata, "spec": {"type": provider_type, **spec}})
    assert isinstance(parsed, Provider)
    return parsed


def make_alert(name: str, provider: str, sources: list[dict[str, Any]], version: str = "v1beta3",
               namespace: str = NAMESPACE, **spec: Any) -> Alert:
    """An Alert parsed from its wire form."""
    parsed = parse_flux_object({"apiVersion": f"notification.toolkit.fluxcd.io/{version}", "kind": "Alert",
                                "metadata": {"name": name, "namespace": namespace},
                                "spec": {"providerRef": {"name": provider}, "eventSources": sources, **spec}})
    assert isinstance(parsed, Alert)
    return parsed


def start_receiver() -> Receiver:
    """A receiver serving on an ephemeral loopback port, in a daemon thread."""
    receiver = Receiver(ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler))
    receiver.server.RequestHandlerClass = _handler(receiver)
    threading.Thread(target=receiver.server.serve_forever, args=(0.02,), daemon=True).start()
    return receiver


def make_event(name: str = "apps", reason: str = "ReconciliationSucceeded", kind: str = "Kustomization",
               namespace: str = NAMESPACE, **kwargs: Any) -> Event:
    """A node-result event with a fixed timestamp."""
    kwargs.setdefault("revision", REVISION)
    return build_event(kind, namespace, name, reason=reason,
                       timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), **kwargs)


def secrets(**by_name: dict[str, str]) -> Any:
    """A SecretLookup serving `by_name` Secrets in the flux-system namespace."""

    def lookup(namespace: str, name: str) -> dict[str, str] | None:
        return by_name.get(name) if namespace == NAMESPACE else None

    return lookup
