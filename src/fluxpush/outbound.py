"""Outbound HTTP beyond the cluster: chart repositories, OCI registries and notification webhooks.

One `Session` (decision 0008: on `urllib.request`, not `requests`) gives every such request the same
rules, those of go-retryablehttp as Flux's controllers use it:
- up to `Retries.retries` retries on connection errors, 429 and 5xx (but 501), for idempotent
  methods only (a POST is retried when the caller says it is safe, as webhook deliveries are);
  exponential backoff, `Retry-After` honoured up to `max_wait`; all inside the session's `timeout`;
- `HTTP(S)_PROXY`/`NO_PROXY` from the environment, or the caller's own proxy;
- the system CA bundle (`SSL_CERT_FILE` honoured), or the caller's CA file;
- answers larger than `max_body` refused, not read into memory;
- credentials sent only to the host they were meant for when a redirect leaves it;
- errors (`EndpointError`) naming the method, host and path (never the query or userinfo), with every
  registered secret value masked (`fluxpush.redact`).
"""

from __future__ import annotations

import base64
import functools
import http.client
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from fluxpush.errors import EndpointError
from fluxpush.redact import redact

DEFAULT_TIMEOUT = 60.0  # seconds for one call, retries included
MAX_BODY = 64 * 1024 * 1024  # an index, manifest, chart or webhook answer larger than this is refused
BODY_EXCERPT = 200  # how much of a refusing endpoint's body an error quotes
USER_AGENT = "fluxpush"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Retries:
    """How often and how patiently to retry; the defaults are go-retryablehttp's (RetryMax 4,
    wait 1 s … 30 s) as notification-controller uses them."""

    retries: int = 4
    min_wait: float = 1.0
    max_wait: float = 30.0

    def wait(self, attempt: int, retry_after: str | None) -> float:
        """Seconds before retry number `attempt` (0-based): `Retry-After` (bounded by `max_wait`)
        when the server sent seconds, else doubling from `min_wait`."""
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), self.max_wait)
        return min(self.min_wait * 2.0**attempt, self.max_wait)


# Chart repositories and registries: go-containerregistry's remote retries three times in all.
READ_RETRIES = Retries(retries=2, min_wait=0.5, max_wait=10.0)


def is_retryable(status: int) -> bool:
    """go-retryablehttp's rule: 429 and every 5xx but 501 Not Implemented."""
    return status == 429 or (status >= 500 and status != 501)


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful (2xx) answer and how many sends it took."""

    status: int
    headers: Message
    body: bytes
    attempts: int = 1


class _KeepAuthOnSameHost(urllib.request.HTTPRedirectHandler):
    """Follow redirects (blob storage, CDNs), but send credentials only back to the same host, as
    go-containerregistry and helm do."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: http.client.HTTPMessage, newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            new.headers = {k: v for k, v in new.headers.items() if k.lower() != "authorization"}
            new.unredirected_hdrs.pop("Authorization", None)
        return new


@functools.lru_cache(maxsize=8)
def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


def display_url(url: str) -> str:
    """`scheme://host[:port]/path` of `url`, masked: what output may show of it (no userinfo, query
    or fragment, where tokens travel)."""
    parts = urlsplit(url)
    return redact(f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}")


def target_of(method: str, url: str) -> str:
    """`METHOD scheme://host[:port]/path`: what an error names of a request."""
    return f"{method} {display_url(url)}"


def _without_userinfo(url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """`user:password@` in a URL sent as basic auth instead, as Go's HTTP client does (urllib would
    take it for a port and quote the password in its error)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, headers
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
    return urlunsplit(parts._replace(netloc=host)), {"Authorization": f"Basic {token}", **headers}


def _connection_problem(exc: BaseException) -> tuple[str, bool]:
    """A connection failure as text, and whether it was the TLS handshake."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    tls = isinstance(reason, ssl.SSLError)
    text = str(reason) if isinstance(reason, str) else f"{type(reason).__name__}: {reason}"
    return text, tls


class Session:
    """Requests with one set of rules (timeout, retries, proxy, CA bundle, size limit)."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, policy: Retries = READ_RETRIES,
                 max_body: int = MAX_BODY, proxy: str = "", ca_file: str | None = None,
                 user_agent: str = USER_AGENT) -> None:
        self.timeout = timeout
        self.policy = policy
        self.max_body = max_body
        self.user_agent = user_agent
        handlers: list[urllib.request.BaseHandler] = [
            _KeepAuthOnSameHost(), urllib.request.HTTPSHandler(context=_tls_context(ca_file))]
        if proxy:  # else build_opener adds the environment's HTTP(S)_PROXY / NO_PROXY handler
            handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
        self._opener = urllib.request.build_opener(*handlers)

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, *, retry_unsafe: bool = False) -> Reply:
        """Send until a 2xx, a final refusal, the last retry or the timeout; raises EndpointError.

        `retry_unsafe` allows retrying a non-idempotent method (a webhook delivery that the receiver
        de-duplicates, as Flux's notification-controller assumes).
        """
        target = target_of(method, url)
        url, headers = _without_userinfo(url, headers or {})
        retries = self.policy.retries if method in IDEMPOTENT or retry_unsafe else 0
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            attempt += 1
            outcome = self._send(method, url, body, headers, deadline, target, attempt)
            if isinstance(outcome, Reply):
                return outcome
            failure, retryable = outcome
            if not retryable or attempt > retries:
                if retryable and retries:
                    failure = _again(failure, f" (after {attempt} attempts)")
                raise failure
            pause = self.policy.wait(attempt - 1, failure.headers.get("retry-after"))
            if time.monotonic() + pause >= deadline:
                raise _again(failure, f" (gave up: timeout {self.timeout:g}s)")
            time.sleep(pause)

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str],
              deadline: float, target: str, attempt: int) -> Reply | tuple[EndpointError, bool]:
        """One send: the reply, or the failure and whether it may be retried."""
        request = urllib.request.Request(url, data=body, method=method,
                                         headers={"User-Agent": self.user_agent, **headers})
        try:
            with self._opener.open(request, timeout=max(deadline - time.monotonic(), 0.001)) as answer:
                return Reply(answer.status, answer.headers, self._read(answer, target, attempt), attempt)
        except urllib.error.HTTPError as refused:
            return self._refusal(refused, target, attempt), is_retryable(refused.code)
        except EndpointError as too_large:
            return too_large, False
        except (OSError, http.client.HTTPException) as broken:
            problem, tls = _connection_problem(broken)
            return EndpointError(target, redact(problem), tls=tls, attempts=attempt), not tls
        except ValueError as bad_url:
            return EndpointError(target, redact(str(bad_url)), attempts=attempt), False

    def _read(self, answer: Any, target: str, attempt: int) -> bytes:
        """The body, refused (not read) past `max_body`."""
        length = answer.headers.get("Content-Length", "")
        too_large = length.isdigit() and int(length) > self.max_body
        body = b"" if too_large else bytes(answer.read(self.max_body + 1))
        if too_large or len(body) > self.max_body:
            raise EndpointError(target, f"the answer is larger than {self.max_body} bytes", attempts=attempt)
        return body

    def _refusal(self, refused: urllib.error.HTTPError, target: str, attempt: int) -> EndpointError:
        """A non-2xx answer as an error: status, body excerpt, headers."""
        try:
            excerpt = " ".join(refused.read(BODY_EXCERPT).decode(errors="replace").split())
        except (OSError, http.client.HTTPException):  # the refusal's body broke off: its status is enough
            excerpt = ""
        if excerpt.startswith("<"):  # an HTML error page says no more than its reason phrase
            excerpt = ""
        problem = f"HTTP {refused.code}" + (f": {excerpt}" if excerpt else f" {refused.reason}")
        headers = {key.lower(): value for key, value in refused.headers.items()} if refused.headers else {}
        return EndpointError(target, redact(problem), status=refused.code, headers=headers, attempts=attempt)


def _again(failure: EndpointError, note: str) -> EndpointError:
    """`failure` with `note` appended to its problem (how the retries ended)."""
    return EndpointError(failure.target, failure.problem + note, status=failure.status,
                         headers=failure.headers, tls=failure.tls, attempts=failure.attempts)
