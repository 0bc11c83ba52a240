"""The one HTTP seam to the API server: requests, retries, errors.

The connection's `Configuration` decides how to reach the server (TLS, client certificates,
proxy) and supplies the bearer token; requests go through a `ConnectionPool` of keep-alive
connections (`kube/http.py`). Every request goes through `Transport.send`, which counts it, renews
EKS credentials once on a 401, retries transient failures of idempotent methods with backoff, and
turns every failure into a `ClusterError`. Safe to share between threads (the pool is; the counter
has a lock).
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import fluxpush
from fluxpush.errors import ClusterError
from fluxpush.kube.connection import BEARER, ClusterConnection
from fluxpush.kube.http import ConnectionPool, RawResponse, TLSFailure, UnsupportedProxy
from fluxpush.kube.retry import RETRYABLE_METHODS, RETRYABLE_STATUS, RetryPolicy, retry_after_seconds
from fluxpush.kube.status import error_from_status, is_undeclared_field, parse_status

JSON = "application/json"
# Seconds to connect and to wait for an answer.
DEFAULT_TIMEOUT = (10.0, 60.0)

# Requests in flight at once, whatever the number of threads sending: the whole run's cap, so a lone
# node on a deep dependency chain may use all of it while many nodes at once share it. The pool keeps
# that many connections open, so no request pays a new TLS handshake.
MAX_IN_FLIGHT = 64
# Reading the token runs the configuration's refresh hook (a kubeconfig's re-sets the whole user entry),
# too costly for every request. Both hooks renew well ahead of expiry (a kubeconfig's 5 minutes early,
# an EKS token a minute before its 15), so a token read a second ago is still good.
AUTH_REREAD_SECONDS = 1.0

Query = Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Call:
    """One request as fluxpush means it: method, path, query, body, and what to name in errors."""

    method: str
    path: str
    query: Query = ()
    body: Any = None
    content_type: str = JSON
    verb: str = "request"  # apply, get, list, delete, patch: the word errors use
    obj: str | None = None  # `Kind/namespace/name` for errors
    timeout: tuple[float, float] = DEFAULT_TIMEOUT


class Transport:
    """Sends `Call`s to one cluster."""

    def __init__(
        self,
        connection: ClusterConnection,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        """`max_in_flight` caps the requests sent at once (see `MAX_IN_FLIGHT`); at least 1."""
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, not {max_in_flight}")
        self.connection = connection
        self._host = connection.configuration.host.rstrip("/")
        try:
            self._pool = ConnectionPool(connection.configuration, max_in_flight)
        except UnsupportedProxy as exc:
            raise ClusterError(f"cannot reach {self._host}: {exc}", is_user_error=True,
                               hint="point the kubeconfig's proxy-url (or HTTPS_PROXY) at an http:// proxy, "
                                    "or list the server in NO_PROXY") from exc
        self._user_agent = f"fluxpush/{fluxpush.__version__}"
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._in_flight = threading.BoundedSemaphore(max_in_flight)
        self._count = 0
        self._auth: dict[str, str] | None = None
        self._auth_read_at = 0.0

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, every retry included."""
        with self._lock:
            return self._count

    def close(self) -> None:
        """Release the connection pool."""
        self._pool.close()

    def json(self, call: Call) -> dict[str, Any]:
        """Send `call` and decode the JSON answer."""
        data = self.send(call).data
        return json.loads(data) if data else {}

    def send(self, call: Call) -> RawResponse:
        """Send `call` until it succeeds, fails for good, or runs out of retries."""
        renewed = False
        retry, waited = 0, 0.0
        while True:
            with self._in_flight:
                outcome = self._attempt(call)
            if not isinstance(outcome, _Failure):
                return outcome
            if outcome.status == 401 and not renewed and self.connection.renew_credentials is not None:
                renewed = True
                self._renew_credentials(self.connection.renew_credentials)
                continue
            delay = None
            if outcome.transient and call.method in RETRYABLE_METHODS:
                delay = self._retry.next_delay(retry, waited, outcome.retry_after, self._rng)
            if delay is None:
                raise outcome.error
            self._sleep(delay)
            retry, waited = retry + 1, waited + delay

    def _auth_headers(self) -> dict[str, str]:
        """The bearer token header, read from the configuration (which runs its refresh hook) at most
        once every `AUTH_REREAD_SECONDS`, and again after a renewal."""
        now = time.monotonic()
        with self._lock:
            if self._auth is not None and now - self._auth_read_at < AUTH_REREAD_SECONDS:
                return self._auth
        bearer = self.connection.configuration.auth_settings().get(BEARER)
        value = bearer.get("value") if bearer else None
        auth = {bearer["key"]: value} if bearer and value else {}
        with self._lock:
            self._auth, self._auth_read_at = auth, now
        return auth

    def _renew_credentials(self, renew: Callable[[], None]) -> None:
        renew()
        with self._lock:
            self._auth = None

    def _headers(self, call: Call) -> dict[str, str]:
        headers = {"Accept": JSON, "Content-Type": call.content_type, "User-Agent": self._user_agent,
                   **self._auth_headers()}
        if self.connection.impersonate:
            headers["Impersonate-User"] = self.connection.impersonate
        return headers

    def _attempt(self, call: Call) -> RawResponse | _Failure:
        """One try: the response if it is a 2xx, else what went wrong."""
        with self._lock:
            self._count += 1
        target = call.path + (f"?{urlencode(list(call.query))}" if call.query else "")
        payload = call.body
        if payload is not None and not isinstance(payload, bytes | str):
            payload = json.dumps(payload, separators=(",", ":"))
        if isinstance(payload, str):
            payload = payload.encode()
        try:
            response = self._pool.request(call.method, target, payload, self._headers(call), call.timeout)
        except TLSFailure as exc:  # not transient: a wrong CA or endpoint stays wrong
            raise ClusterError(
                f"{call.verb}: TLS with {self._host} failed: {exc}",
                obj=call.obj,
                hint="check the cluster's CA certificate and endpoint",
            ) from exc
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, dropped, timed out
            error = ClusterError(
                f"{call.verb}: no answer from {self._host} ({type(exc).__name__})",
                obj=call.obj,
                hint="check that the API endpoint is reachable from this runner",
            )
            error.__cause__ = exc
            return _Failure(error, None, None, transient=True)
        if 200 <= response.status < 300:
            return response
        body = response.data
        error = error_from_status(response.status, body, obj=call.obj, verb=call.verb)
        transient = response.status in RETRYABLE_STATUS and not is_undeclared_field(
            response.status, parse_status(body)
        )
        return _Failure(error, response.status, retry_after_seconds(response.headers, body), transient)


@dataclass(frozen=True, slots=True)
class _Failure:
    """A try that did not succeed: the error to raise, the HTTP code (None: no answer), the server's wait."""

    error: ClusterError
    status: int | None
    retry_after: float | None
    transient: bool
