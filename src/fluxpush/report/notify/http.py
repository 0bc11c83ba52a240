"""The one HTTP seam of notifications: JSON requests with Flux's retry rules, a timeout and a proxy.

notification-controller posts through go-retryablehttp: up to 4 retries on connection errors,
429 and 5xx (but 501), exponential backoff honouring `Retry-After`, all inside the Provider's
timeout. `Transport` does the same; its errors say what failed with the secret values masked.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urlsplit

from fluxpush.errors import ReportError
from fluxpush.redact import redact

# go-retryablehttp's defaults as notification-controller uses them: RetryMax 4, wait 1s..30s.
DEFAULT_RETRIES = 4
DEFAULT_MIN_WAIT = 1.0
DEFAULT_MAX_WAIT = 30.0

USER_AGENT = "fluxpush-notification"

# How much of a refusing endpoint's body an error quotes.
BODY_EXCERPT = 200


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry a failed request."""

    retries: int = DEFAULT_RETRIES
    min_wait: float = DEFAULT_MIN_WAIT
    max_wait: float = DEFAULT_MAX_WAIT

    def wait(self, attempt: int, retry_after: str | None) -> float:
        """Seconds before retry number `attempt` (0-based): `Retry-After` if given, else doubling."""
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), self.max_wait)
        return min(self.min_wait * 2.0**attempt, self.max_wait)


@dataclass(frozen=True, slots=True)
class Response:
    """What an endpoint answered."""

    status: int
    body: bytes
    attempts: int


def is_retryable(status: int) -> bool:
    """go-retryablehttp's rule: 429 and every 5xx but 501 Not Implemented."""
    return status == 429 or (status >= 500 and status != 501)


@dataclass
class Transport:
    """Sends requests for one Provider; counts attempts; masks secret values (`fluxpush.redact`) in
    every error."""

    timeout: float
    proxy: str = ""
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    attempts: int = 0

    def _opener(self) -> urllib.request.OpenerDirector:
        if self.proxy:
            return urllib.request.build_opener(urllib.request.ProxyHandler(
                {"http": self.proxy, "https": self.proxy}))
        return urllib.request.build_opener()

    def _fail(self, message: str) -> ReportError:
        return ReportError(redact(message))

    def _once(self, request: urllib.request.Request, remaining: float) -> tuple[int, bytes, Message | None]:
        try:
            with self._opener().open(request, timeout=max(remaining, 0.001)) as answer:
                return answer.status, answer.read(), answer.headers
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read(), refused.headers

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Response:
        """Send with retries until a 2xx, a final refusal, or the timeout; raises ReportError.

        The error names the host and path only when they hold no secret (the whole URL of a
        Slack or Teams webhook is the credential).
        """
        all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        target = redact(f"{method} {urlsplit(url).scheme}://{urlsplit(url).netloc}{urlsplit(url).path}")
        deadline = time.monotonic() + self.timeout
        problem = ""
        for attempt in range(self.policy.retries + 1):
            request = urllib.request.Request(url, data=body, headers=all_headers, method=method)
            self.attempts += 1
            retry_after = None
            try:
                status, payload, answer_headers = self._once(request, deadline - time.monotonic())
            except (OSError, ValueError) as broken:
                problem = f"{target}: {type(broken).__name__}: {broken}"
            else:
                if 200 <= status < 300:
                    return Response(status, payload, self.attempts)
                excerpt = payload[:BODY_EXCERPT].decode(errors="replace").strip()
                problem = f"{target}: HTTP {status}" + (f": {excerpt}" if excerpt else "")
                if not is_retryable(status):
                    raise self._fail(problem)
                retry_after = answer_headers.get("Retry-After") if answer_headers else None
            if attempt == self.policy.retries:
                break
            pause = self.policy.wait(attempt, retry_after)
            if time.monotonic() + pause >= deadline:
                raise self._fail(f"{problem} (gave up: timeout {self.timeout:g}s)")
            time.sleep(pause)
        raise self._fail(f"{problem} (after {self.attempts} attempts)")
