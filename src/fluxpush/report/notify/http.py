"""The one HTTP seam of notifications: JSON requests for one Provider through `fluxpush.outbound`.

notification-controller posts through go-retryablehttp: up to 4 retries on connection errors,
429 and 5xx (but 501), exponential backoff honouring `Retry-After`, all inside the Provider's
timeout. `ProviderClient` sends with those rules (deliveries are retried although they are POSTs, as
Flux does), through the Provider's proxy; its errors say what failed with the secret values masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fluxpush.errors import EndpointError, ReportError
from fluxpush.outbound import Reply, Retries, Session

USER_AGENT = "fluxpush-notification"


@dataclass
class ProviderClient:
    """Sends requests for one Provider; counts attempts over all of them."""

    timeout: float
    proxy: str = ""
    policy: Retries = field(default_factory=Retries)
    attempts: int = 0
    session: Session = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.session = Session(timeout=self.timeout, policy=self.policy, proxy=self.proxy,
                               user_agent=USER_AGENT)

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        """Send with retries until a 2xx, a final refusal, or the timeout; raises ReportError.

        The error names the host and path only when they hold no secret (the whole URL of a
        Slack or Teams webhook is the credential).
        """
        all_headers = dict(headers or {})
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        try:
            reply = self.session.request(method, url, body, all_headers, retry_unsafe=True)
        except EndpointError as failed:
            self.attempts += failed.attempts
            raise ReportError(str(failed)) from failed
        self.attempts += reply.attempts
        return reply
