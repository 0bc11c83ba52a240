"""When to retry a request to the API server, and how long to wait before the next try."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message

from fluxpush.kube.status import parse_status

# Answers worth another try: throttling (API Priority and Fairness), a transient server error,
# an unavailable or timed-out apiserver/load balancer. 500 "field not declared" is excluded by the caller.
RETRYABLE_STATUS = frozenset({429, 500, 503, 504})
# Methods that are safe to send twice: reads, server-side apply and merge patches (idempotent), deletes.
# POST is not: a create that did land before the connection dropped comes back as 409 AlreadyExists.
RETRYABLE_METHODS = frozenset({"GET", "HEAD", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Capped exponential backoff with jitter, bounded by a number of tries and a total wait."""

    max_attempts: int = 6  # the first try plus five retries
    base_delay: float = 0.2  # seconds before the first retry (before jitter)
    max_delay: float = 5.0  # no single wait is longer, unless the server's Retry-After asks for it
    max_total_wait: float = 30.0  # seconds one request may spend waiting between its tries

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry` (0-based): 'equal jitter' in [d/2, d]."""
        ceiling = min(self.max_delay, self.base_delay * (2**retry))
        return rng.uniform(ceiling / 2, ceiling)

    def next_delay(
        self, retry: int, waited: float, retry_after: float | None, rng: random.Random
    ) -> float | None:
        """The wait before retry `retry` after `waited` seconds of waiting so far, or None to give up."""
        if retry + 1 >= self.max_attempts:
            return None
        delay = retry_after if retry_after is not None else self.backoff(retry, rng)
        if waited + delay > self.max_total_wait:
            return None
        return delay


def retry_after_seconds(headers: Mapping[str, str] | Message | None, body: bytes) -> float | None:
    """The server's requested wait: the `Retry-After` header, else `Status.details.retryAfterSeconds`.

    Header names are matched in any case (RFC 9110): a proxy or HTTP/2 hop sends `retry-after`.
    """
    value = _header(headers, "Retry-After")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            return None  # an HTTP-date: the API server never sends one, so fall back to backoff
    details = parse_status(body).get("details") or {}
    seconds = details.get("retryAfterSeconds") if isinstance(details, dict) else None
    return float(seconds) if isinstance(seconds, int | float) and seconds > 0 else None


def _header(headers: Mapping[str, str] | Message | None, name: str) -> str | None:
    """A header's value, its name matched in any case (an http.client message already does)."""
    if headers is None:
        return None
    if isinstance(headers, Message):
        return headers.get(name)
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)
