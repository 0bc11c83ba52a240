"""Test hooks: injected failures, token expiry, latency, and the log of every request served."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from kubesim.auth import Authenticator
from kubesim.errors import ApiError

ACTIONS = ("429", "500", "503", "504", "drop")


@dataclass(slots=True)
class Fault:
    """One injected failure: what to answer, how many more times, and which requests it hits."""

    action: str
    count: int
    verb: str | None
    path: str | None
    retry_after: int

    def matches(self, verb: str, path: str) -> bool:
        """Whether a request with this Kubernetes verb and path is hit."""
        return (self.verb is None or self.verb.lower() == verb.lower()) and (
            self.path is None or self.path in path
        )

    def error(self) -> ApiError:
        """The Status the real server sends for this kind of failure."""
        if self.action == "429":
            return ApiError(
                429, "TooManyRequests", "Too many requests, please try again later.",
                {"retryAfterSeconds": self.retry_after}, {"Retry-After": str(self.retry_after)},
            )
        if self.action == "500":
            return ApiError(500, "InternalError", "Internal error occurred: injected by kubesim",
                            {"causes": [{"message": "injected by kubesim"}]})
        if self.action == "503":
            return ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request",
                            {"retryAfterSeconds": self.retry_after}, {"Retry-After": str(self.retry_after)})
        return ApiError(504, "Timeout", "Timeout: request did not complete within the allotted timeout",
                        {"retryAfterSeconds": self.retry_after})


class Faults:
    """What the next requests should suffer; thread-safe."""

    def __init__(self, authenticator: Authenticator, latency_ms: float = 0.0) -> None:
        self._authenticator = authenticator
        self._lock = threading.Lock()
        self._pending: list[Fault] = []
        self._latency = (latency_ms, 0.0)

    def inject(self, action: str, count: int = 1, verb: str | None = None, path: str | None = None,
               retry_after: int = 1) -> None:
        """Answer the next `count` matching requests with `action` (429/500/503/504, or drop)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown fault {action!r}; expected one of {', '.join(ACTIONS)}")
        with self._lock:
            self._pending.append(Fault(action, count, verb, path, retry_after))

    def clear(self) -> None:
        """Forget every pending fault and the latency."""
        with self._lock:
            self._pending.clear()
            self._latency = (0.0, 0.0)

    def expire_tokens(self) -> None:
        """Every token valid so far answers 401; EKS tokens minted later work; the static one rotates.

        Presigned URLs are deterministic: a token minted in the same second with the same credentials
        and region as a revoked one *is* that token, and stays revoked.
        """
        self._authenticator.expire()

    def latency(self, ms: float, jitter_ms: float = 0.0) -> None:
        """Delay every request by `ms` plus up to `jitter_ms` milliseconds."""
        with self._lock:
            self._latency = (ms, jitter_ms)

    def delay(self) -> None:
        """Sleep the configured latency (called once per request)."""
        with self._lock:
            ms, jitter = self._latency
        if ms or jitter:
            time.sleep((ms + random.uniform(0, jitter)) / 1000)

    def take(self, verb: str, path: str) -> Fault | None:
        """The fault hitting this request, if any (uses up one of its count)."""
        with self._lock:
            for fault in self._pending:
                if fault.matches(verb, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._pending.remove(fault)
                    return fault
        return None


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One served request; `status` 0 means the connection was dropped without an answer.

    Plain requests are logged just before they are answered, so a client that has its answer
    finds the entry; watches are logged when their stream ends.
    """

    method: str
    path: str
    query: dict[str, str]
    verb: str
    status: int
    duration_ms: float
    user_agent: str
    impersonate_user: str = ""  # the `Impersonate-User` header, when the client sent one


class RequestLog:
    """Every request in memory, optionally mirrored as JSON lines to a file."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []
        self._path = path
        if path is not None:
            path.write_text("", encoding="utf-8")

    def add(self, entry: LoggedRequest) -> None:
        """Record one request."""
        with self._lock:
            self._entries.append(entry)
            if self._path is not None:
                with self._path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(asdict(entry)) + "\n")

    def entries(self) -> list[LoggedRequest]:
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[LoggedRequest]:
        """Iterate over a snapshot of the log."""
        return iter(self.entries())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def counts(self) -> dict[str, int]:
        """Requests per Kubernetes verb."""
        return dict(Counter(e.verb for e in self.entries()))

    def clear(self) -> None:
        """Forget the in-memory log (the file keeps its lines)."""
        with self._lock:
            self._entries.clear()
