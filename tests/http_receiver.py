"""Local HTTP receivers on 127.0.0.1 for webhook tests: every request is recorded, answers are
queued per path (the `receiver` and `make_receiver` fixtures in tests/conftest.py start them)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DROP = 0  # an answer status that closes the connection without answering


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
            if status == DROP:
                self.close_connection = True  # no answer at all: the client sees the connection end
                return
            with contextlib.suppress(OSError):  # the client gave up waiting (timeout tests)
                self._answer(status, payload, headers)

        def _answer(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_HEAD = do_PUT = _serve

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def start_receiver() -> Receiver:
    """A receiver serving on an ephemeral loopback port, in a daemon thread."""
    receiver = Receiver(ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler))
    receiver.server.RequestHandlerClass = _handler(receiver)
    threading.Thread(target=receiver.server.serve_forever, args=(0.02,), daemon=True).start()
    return receiver
