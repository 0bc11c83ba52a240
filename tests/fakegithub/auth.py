"""How the fake checks credentials: App JWTs (RS256, verified with the App's public key) and tokens.

The JWT rules are GitHub's: RS256 only, a valid signature by the App's key, `iss` the App ID or the
client ID, `iat` not in the future, `exp` in the future and at most 10 minutes ahead. The messages
are the ones GitHub answers with (401).
"""

from __future__ import annotations

import jwt

from .state import FakeApp, FakeToken, GitHubState

# GitHub refuses an App JWT whose `exp` is more than 10 minutes after now.
MAX_JWT_AHEAD_SECONDS = 600

NOT_DECODABLE = "A JSON web token could not be decoded"
IAT_IN_FUTURE = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
)
EXP_PASSED = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the "
    "assertion expires"
)
EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
ISS_UNKNOWN = "Integration not found"


class Refusal(Exception):
    """A request the fake answers with `status`, `message` (and 422 `errors`) instead of serving it."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.errors = errors or []


def check_app_jwt(token: str, app: FakeApp, now: float) -> dict[str, object]:
    """The claims of a valid App JWT, or Refusal(401) saying what is wrong with it."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Refusal(401, NOT_DECODABLE) from None
    if header.get("alg") != "RS256":
        raise Refusal(401, NOT_DECODABLE)
    try:
        claims = jwt.decode(
            token,
            app.public_key,
            algorithms=["RS256"],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["iat", "exp", "iss"],
            },
        )
    except jwt.PyJWTError:
        raise Refusal(401, NOT_DECODABLE) from None
    if str(claims["iss"]) not in (str(app.id), app.client_id):
        raise Refusal(401, ISS_UNKNOWN)
    iat, exp = claims["iat"], claims["exp"]
    if not isinstance(iat, int) or iat > now:
        raise Refusal(401, IAT_IN_FUTURE)
    if not isinstance(exp, int) or exp <= now:
        raise Refusal(401, EXP_PASSED)
    if exp > now + MAX_JWT_AHEAD_SECONDS:
        raise Refusal(401, EXP_TOO_FAR)
    return claims


def bearer(authorization: str | None) -> str:
    """The credential of an `Authorization: Bearer|token <credential>` header."""
    scheme, _, credential = (authorization or "").partition(" ")
    if scheme.lower() not in ("bearer", "token") or not credential.strip():
        raise Refusal(401, "Requires authentication")
    return credential.strip()


def check_token(state: GitHubState, authorization: str | None) -> FakeToken:
    """The live token behind the header, or Refusal(401 Bad credentials)."""
    with state.lock:
        token = state.tokens.get(bearer(authorization))
    if token is None or (token.expires_at is not None and token.expires_at <= state.clock()):
        raise Refusal(401, "Bad credentials")
    return token


def check_access(token: FakeToken, repository: str | None, alternatives: tuple[tuple[str, str], ...]) -> None:
    """A repository outside the token's scope is 404 (as on GitHub); a missing permission is 403."""
    if repository is not None and token.repositories is not None and repository not in token.repositories:
        raise Refusal(404, "Not Found")
    if not alternatives or any(token.grants(name, level) for name, level in alternatives):
        return
    accepted = "; ".join(f"{name}={level}" for name, level in alternatives)
    raise Refusal(403, "Resource not accessible by integration", {"X-Accepted-GitHub-Permissions": accepted})
