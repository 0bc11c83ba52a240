"""Waiting out GitHub's rate limits: when a 403/429 is worth another try, and how long to wait first.

GitHub's rules: with `retry-after`, wait that many seconds; with `x-ratelimit-remaining: 0`, wait until
`x-ratelimit-reset` (epoch seconds); otherwise wait at least a minute and back off exponentially.
A bounded number of tries and a ceiling on the total wait keep a deploy from sitting for an hour.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from github import GithubException, RateLimitExceededException

from fluxpush.errors import ReportError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """How many tries and how much waiting one GitHub call may spend on rate limits."""

    max_attempts: int = 4  # the first try plus three retries
    max_total_wait: float = 120.0  # seconds; past that, report "rate limited" rather than stall a deploy
    default_wait: float = 60.0  # GitHub: "wait at least one minute" when no header says how long


DEFAULT_POLICY = RateLimitPolicy()


def _header(headers: Mapping[str, object] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def rate_limit_wait(exc: GithubException, retry: int, now: float, policy: RateLimitPolicy) -> float | None:
    """Seconds to wait before retry number `retry` (0-based), or None when `exc` is no rate limit."""
    if exc.status not in (403, 429):
        return None
    retry_after = _header(exc.headers, "retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return policy.default_wait
    reset = _header(exc.headers, "x-ratelimit-reset")
    if _header(exc.headers, "x-ratelimit-remaining") == "0" and reset is not None:
        try:
            return max(0.0, float(reset) - now) + 1.0
        except ValueError:
            return policy.default_wait
    if exc.status == 429 or isinstance(exc, RateLimitExceededException):
        return policy.default_wait * 2.0**retry
    return None  # a plain 403: a permission problem, not a limit


def call_with_rate_limit_retry(
    call: Callable[[], T],
    what: str,
    *,
    policy: RateLimitPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> T:
    """Run `call`, retrying while GitHub answers with a rate limit, within the policy's bounds."""
    waited = 0.0
    retry = 0
    while True:
        try:
            return call()
        except GithubException as exc:
            delay = rate_limit_wait(exc, retry, clock(), policy)
            if delay is None:
                raise
            if retry + 1 >= policy.max_attempts or waited + delay > policy.max_total_wait:
                raise ReportError(
                    f"GitHub API rate limit: gave up on {what} after {retry + 1} tries and {waited:.0f} s of "
                    f"waiting (GitHub asked for {delay:.0f} s more)"
                ) from None
            sleep(delay)
            waited += delay
            retry += 1
