"""Authenticating to GitHub: as a GitHub App (JWT → installation → repository-scoped token) or with a token.

    connect_app(repository, app_id, private_key, …)  App ID or client ID + PEM key → GitHubConnection
    connect_token(repository, token, …)              a ready token (github.token, a PAT, an App token)

The installation token is masked (`::add-mask::`) the moment it arrives, scoped to the one repository,
and minted again shortly before it expires, so a run may outlive its first token. Neither the key nor a
token is ever put into a message.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from github import Auth, Github, GithubException, GithubIntegration

from fluxpush.errors import ReportError
from fluxpush.report.workflow import WorkflowCommands

Clock = Callable[[], float]

DEFAULT_API_URL = "https://api.github.com"
# GitHub asks for `iat` 60 s in the past, against clock drift between the runner and GitHub.
JWT_BACKDATE_SECONDS = 60
# `exp` may be at most 10 minutes after now; 9 leaves a minute for a runner clock that runs fast.
JWT_LIFETIME_SECONDS = 540
# Installation tokens live one hour; mint the next one 5 minutes early so no request in flight uses
# a token that expires under it (PyGithub's own margin, 20 s, is too thin for a slow apply step).
TOKEN_REFRESH_MARGIN_SECONDS = 300
# The author of comments posted with the workflow's GITHUB_TOKEN (which cannot read GET /user).
ACTIONS_BOT_LOGIN = "github-actions[bot]"

# What each mode needs from the App; "write" includes "read".
PREVIEW_PERMISSIONS: Mapping[str, str] = {"pull_requests": "write", "checks": "write"}
DEPLOY_PERMISSIONS: Mapping[str, str] = {
    "contents": "read",
    "pull_requests": "write",
    "checks": "write",
    "statuses": "write",
    "deployments": "write",
}
_LEVELS = {"read": 1, "write": 2, "admin": 3}


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """PyGithub client settings. The defaults space requests out as GitHub asks; tests turn that off."""

    seconds_between_requests: float | None = 0.25
    seconds_between_writes: float | None = 1.0
    per_page: int = 100
    timeout: int = 30


@dataclass(frozen=True, slots=True)
class GitHubConnection:
    """An authenticated client for one repository, and who our comments are authored by."""

    github: Github
    repository: str
    bot_login: str
    is_app: bool
    api_url: str


def split_repository(repository: str) -> tuple[str, str]:
    """`owner/name` → (owner, name), or a ReportError naming the expected form."""
    owner, _, name = repository.partition("/")
    if not owner or not name or "/" in name:
        raise ReportError(f"repository {repository!r} is not of the form owner/name")
    return owner, name


def _normalise_pem(text: str) -> bytes:
    """Undo the usual damage done to a PEM on its way into a secret (quotes, `\\n`, CRLF, base64)."""
    value = text.strip().strip("\"'").strip()
    if "\n" not in value and "\\n" in value:
        value = value.replace("\\n", "\n")
    value = value.replace("\r\n", "\n")
    if not value.startswith("-----BEGIN"):
        try:
            decoded = base64.b64decode(value, validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if decoded.lstrip().startswith("-----BEGIN"):
            value = decoded.strip()
        elif "\n" not in value and Path(value).is_file():
            value = Path(value).read_text(encoding="ascii", errors="replace").strip()
    return value.encode("ascii", errors="replace") + b"\n"


def load_private_key(text: str) -> RSAPrivateKey:
    """The App's RSA private key from PEM text (PKCS#1 or PKCS#8), a base64 PEM or a path to a PEM file."""
    hint = (
        "pass the whole .pem file downloaded from the App's settings, including the BEGIN/END lines; "
        "check that newlines survived the secret"
    )
    try:
        key = serialization.load_pem_private_key(_normalise_pem(text), password=None)
    except (ValueError, TypeError):
        raise ReportError(f"the GitHub App private key is not a PEM RSA private key (fix: {hint})") from None
    if not isinstance(key, RSAPrivateKey):
        raise ReportError(
            f"the GitHub App private key is not an RSA key; GitHub signs only RS256 (fix: {hint})"
        )
    return key


def create_app_jwt(app_id: str, key: RSAPrivateKey, now: float) -> str:
    """An RS256 App JWT: `iat` back-dated 60 s, `exp` 9 min ahead, `iss` the App ID or client ID."""
    payload = {"iat": int(now) - JWT_BACKDATE_SECONDS, "exp": int(now) + JWT_LIFETIME_SECONDS, "iss": app_id}
    return jwt.encode(payload, key, algorithm="RS256")


def missing_permissions(granted: Mapping[str, str], wanted: Mapping[str, str]) -> list[str]:
    """The wanted permissions the installation does not grant, as `name: level` (sorted)."""
    return sorted(
        f"{name}: {level}"
        for name, level in wanted.items()
        if _LEVELS.get(granted.get(name, ""), 0) < _LEVELS.get(level, 0)
    )


class _AppJWTAuth(Auth.AppAuth):
    """PyGithub's App auth, minting our JWT from an injectable clock and masking each one."""

    def __init__(self, app_id: str, key: RSAPrivateKey, clock: Clock, commands: WorkflowCommands) -> None:
        super().__init__(app_id, sign_func=lambda payload: "")  # unused: create_jwt below signs
        self._key = key
        self._clock = clock
        self._commands = commands

    def create_jwt(self, expiration: int | None = None) -> str:
        token = create_app_jwt(str(self.app_id), self._key, self._clock())
        self._commands.add_mask(token)
        return token


@dataclass(frozen=True, slots=True)
class InstallationToken:
    """One minted installation access token (opaque: never parsed, never logged)."""

    token: str
    expires_at: float
    permissions: Mapping[str, str]


class InstallationTokenAuth(Auth.Auth):
    """Installation-token auth for PyGithub that mints a fresh token when the current one nears expiry."""

    def __init__(self, mint: Callable[[], InstallationToken], clock: Clock) -> None:
        self._mint = mint
        self._clock = clock
        self._current: InstallationToken | None = None
        self._lock = threading.Lock()  # one refresh at a time when requests run in parallel

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        with self._lock:
            current = self._current
            if current is None or self._clock() >= current.expires_at - TOKEN_REFRESH_MARGIN_SECONDS:
                current = self._current = self._mint()
            return current.token

    @property
    def _masked_token(self) -> str:
        return "token (installation token removed)"


def _github_kwargs(api_url: str, options: ClientOptions) -> dict[str, object]:
    return {
        "base_url": api_url,
        "timeout": options.timeout,
        "per_page": options.per_page,
        "retry": 0,  # fluxpush retries rate limits itself (report.github), and never re-sends a create
        "seconds_between_requests": options.seconds_between_requests,
        "seconds_between_writes": options.seconds_between_writes,
        "lazy": True,
    }


def _unreachable(api_url: str, exc: Exception) -> ReportError:
    return ReportError(
        f"cannot reach the GitHub API at {api_url}: {type(exc).__name__} (check GITHUB_API_URL)"
    )


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    return str(data.get("message") or exc.status)


class _AppSession:
    """The JWT-authenticated steps: who the App is, where it is installed, and minting tokens."""

    def __init__(
        self,
        app_id: str,
        key: RSAPrivateKey,
        api_url: str,
        options: ClientOptions,
        clock: Clock,
        commands: WorkflowCommands,
    ) -> None:
        self.app_id = app_id
        self.api_url = api_url
        self.clock = clock
        self.commands = commands
        auth = _AppJWTAuth(app_id, key, clock, commands)
        self.integration = GithubIntegration(auth=auth, **_github_kwargs(api_url, options))  # type: ignore[arg-type]

    def describe_app(self) -> tuple[str, str]:
        """(slug, settings page URL) of the App, which also proves the key signs for it."""
        try:
            app = self.integration.get_app()
            return app.slug, app.html_url
        except GithubException as exc:
            if exc.status == 401:
                raise ReportError(
                    f"GitHub rejected the App JWT for App {self.app_id} (HTTP 401: {_message(exc)}); "
                    "fix: check that app-id is the App ID or client ID of the App whose private key you "
                    "passed, and that the runner clock is right"
                ) from None
            raise ReportError(f"GET /app failed (HTTP {exc.status}: {_message(exc)})") from None

    def find_installation(self, repository: str, slug: str, app_url: str) -> tuple[int, Mapping[str, str]]:
        """(installation id, granted permissions) of the App on `repository`."""
        owner, name = split_repository(repository)
        try:
            installation = self.integration.get_repo_installation(owner, name)
            return installation.id, dict(installation.raw_data.get("permissions") or {})
        except GithubException as exc:
            if exc.status == 404:
                raise ReportError(
                    f"the GitHub App {slug} is not installed on {repository}; fix: install it "
                    f"({app_url}/installations/new) or add {repository} to the repositories the "
                    "installation may access"
                ) from None
            raise ReportError(
                f"looking up the installation on {repository} failed (HTTP {exc.status})"
            ) from None

    def mint_token(
        self, installation_id: int, repository: str, wanted: Mapping[str, str], granted: Mapping[str, str]
    ) -> InstallationToken:
        """A token for `repository` only, with the `wanted` permissions; masked before it is returned."""
        _, name = split_repository(repository)
        body = {"repositories": [name], "permissions": dict(wanted)}
        try:
            _, data = self.integration.requester.requestJsonAndCheck(
                "POST", f"/app/installations/{installation_id}/access_tokens", input=body
            )
        except GithubException as exc:
            missing = missing_permissions(granted, wanted)
            detail = f"HTTP {exc.status}: {_message(exc)}"
            if missing:
                raise ReportError(_permission_hint(missing, repository, detail)) from None
            raise ReportError(f"minting an installation token for {repository} failed ({detail})") from None
        except requests.RequestException as exc:
            raise _unreachable(self.api_url, exc) from exc
        token = str(data["token"])
        self.commands.add_mask(token)
        expires_at = datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00")).timestamp()
        return InstallationToken(token, expires_at, dict(data.get("permissions") or {}))


def _permission_hint(missing: list[str], repository: str, detail: str = "") -> str:
    names = ", ".join(f"`{item}`" for item in missing)
    suffix = f" ({detail})" if detail else ""
    return (
        f"the GitHub App lacks {names} on {repository}{suffix}; fix: grant it under the App's "
        "'Permissions & events' settings, then accept the new permissions on the installation"
    )


def connect_app(
    repository: str,
    app_id: str | int,
    private_key: str,
    *,
    permissions: Mapping[str, str] = DEPLOY_PERMISSIONS,
    api_url: str = DEFAULT_API_URL,
    options: ClientOptions = ClientOptions(),
    clock: Clock = time.time,
    commands: WorkflowCommands | None = None,
) -> GitHubConnection:
    """Authenticate as the App's installation on `repository` with a token scoped to that repository.

    Fails with a ReportError when the key is not a usable RSA key, GitHub rejects the JWT, the App is not
    installed on the repository, or the installation lacks one of `permissions` (named in the message).
    """
    commands = commands or WorkflowCommands()
    session = _AppSession(
        str(app_id), load_private_key(private_key), api_url.rstrip("/"), options, clock, commands
    )
    try:
        slug, app_url = session.describe_app()
        installation_id, granted = session.find_installation(repository, slug, app_url)
    except requests.RequestException as exc:
        raise _unreachable(session.api_url, exc) from exc
    missing = missing_permissions(granted, permissions)
    if missing:
        raise ReportError(_permission_hint(missing, repository))
    auth = InstallationTokenAuth(
        lambda: session.mint_token(installation_id, repository, permissions, granted), clock
    )
    auth.token  # noqa: B018 - mint (and mask) the first token now, so setup errors surface here
    client = Github(auth=auth, **_github_kwargs(session.api_url, options))  # type: ignore[arg-type]
    return GitHubConnection(client, repository, f"{slug}[bot]", True, session.api_url)


def connect_token(
    repository: str,
    token: str,
    *,
    api_url: str = DEFAULT_API_URL,
    options: ClientOptions = ClientOptions(),
    bot_login: str | None = None,
    commands: WorkflowCommands | None = None,
) -> GitHubConnection:
    """Authenticate with a ready token; its user (GET /user) authors our comments.

    The workflow's GITHUB_TOKEN cannot read GET /user; its comments are by `github-actions[bot]`.
    """
    split_repository(repository)
    if not token.strip():
        raise ReportError(
            "github-token is empty; fix: pass `github-token: ${{ github.token }}` or an App token"
        )
    (commands or WorkflowCommands()).add_mask(token.strip())
    api_url = api_url.rstrip("/")
    client = Github(auth=Auth.Token(token.strip()), **_github_kwargs(api_url, options))  # type: ignore[arg-type]
    login = bot_login or _token_login(client, api_url)
    return GitHubConnection(client, repository, login, False, api_url)


def _token_login(client: Github, api_url: str) -> str:
    try:
        return client.get_user().login
    except GithubException as exc:
        if exc.status == 403:
            return ACTIONS_BOT_LOGIN
        if exc.status == 401:
            raise ReportError(
                "GitHub rejected github-token (HTTP 401 Bad credentials); fix: pass a valid, unexpired token"
            ) from None
        raise ReportError(f"GET /user failed (HTTP {exc.status}: {_message(exc)})") from None
    except requests.RequestException as exc:
        raise _unreachable(api_url, exc) from exc
