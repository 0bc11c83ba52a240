"""GitHub App authentication against the fake GitHub: JWTs it verifies, scoped and masked tokens,
refresh on expiry, and errors that name the fix (not installed, wrong key, missing permission)."""

from __future__ import annotations

import base64
import dataclasses
import socket

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fakegithub import FakeGitHub
from fakegithub.auth import EXP_PASSED, IAT_IN_FUTURE, NOT_DECODABLE, check_app_jwt
from fakegithub.auth import Refusal as FakeRefusal
from fluxpush.errors import ReportError
from fluxpush.report.github import GitHubReporter
from fluxpush.report.github_app import (
    ACTIONS_BOT_LOGIN,
    DEPLOY_PERMISSIONS,
    JWT_BACKDATE_SECONDS,
    JWT_LIFETIME_SECONDS,
    PREVIEW_PERMISSIONS,
    connect_app,
    connect_token,
    load_private_key,
)

from .conftest import FAST, REPO


def _connect(fake: FakeGitHub, pem: str, clock, commands, **overrides):
    args = {"api_url": fake.base_url, "options": FAST, "clock": clock, "commands": commands}
    args.update(overrides)
    app_id = args.pop("app_id", fake.state.app.id)
    return connect_app(REPO, app_id, pem, **args)


def _masks(log) -> list[str]:
    return [
        line.removeprefix("::add-mask::")
        for line in log.getvalue().splitlines()
        if line.startswith("::add-mask::")
    ]


def test_jwt_is_rs256_backdated_and_accepted_by_the_fake(fake_github, app_pem, clock, commands):
    fake_github.state.install(REPO, DEPLOY_PERMISSIONS)
    _connect(fake_github, app_pem, clock, commands)

    app_calls = fake_github.state.requests_to("GET", "/app")
    assert [r.status for r in app_calls] == [200]
    token = app_calls[0].headers["authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = check_app_jwt(token, fake_github.state.app, clock())  # signature checked with the public key
    assert claims["iat"] == int(clock()) - JWT_BACKDATE_SECONDS == int(clock()) - 60
    assert claims["exp"] == int(clock()) + JWT_LIFETIME_SECONDS
    assert claims["exp"] - int(clock()) <= 600
    assert claims["iss"] == str(fake_github.state.app.id)


def test_client_id_works_as_issuer(fake_github, app_pem, clock, commands):
    fake_github.state.install(REPO, PREVIEW_PERMISSIONS)
    connection = _connect(
        fake_github,
        app_pem,
        clock,
        commands,
        app_id=fake_github.state.app.client_id,
        permissions=PREVIEW_PERMISSIONS,
    )
    assert connection.is_app and connection.bot_login == "fluxpush-test[bot]"


@pytest.mark.parametrize(
    ("shift", "message"),
    [(120, IAT_IN_FUTURE), (-900, EXP_PASSED)],
    ids=["runner-clock-2-min-fast", "runner-clock-15-min-slow"],
)
def test_fake_rejects_jwt_from_a_skewed_clock(fake_github, app_pem, clock, commands, shift, message):
    fake_github.state.install(REPO, DEPLOY_PERMISSIONS)
    skewed = lambda: clock() + shift  # noqa: E731

    with pytest.raises(ReportError, match="rejected the App JWT") as caught:
        _connect(fake_github, app_pem, skewed, commands)
    assert message in str(caught.value)
    assert "runner clock" in str(caught.value)
    assert [r.status for r in fake_github.state.requests_to("GET", "/app")] == [401]


def test_fake_rejects_unsigned_wrongly_signed_and_hs256_jwts(fake_github, app_key, clock):
    now = int(clock())
    claims = {"iat": now - 60, "exp": now + 300, "iss": str(fake_github.state.app.id)}
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = {
        "unsigned": jwt.encode(claims, None, algorithm="none"),
        "other-key": jwt.encode(claims, other_key, algorithm="RS256"),
        "hs256": jwt.encode(claims, "shared-secret-of-32-bytes-or-more!!", algorithm="HS256"),
    }
    for name, token in forged.items():
        answer = requests.get(
            f"{fake_github.base_url}/app", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert (name, answer.status_code, answer.json()["message"]) == (name, 401, NOT_DECODABLE)
    good = jwt.encode(claims, app_key, algorithm="RS256")
    assert requests.get(
        f"{fake_github.base_url}/app", headers={"Authorization": f"Bearer {good}"}, timeout=5
    ).ok
    with pytest.raises(FakeRefusal):
        check_app_jwt(
            jwt.encode({**claims, "exp": now + 900}, app_key, algorithm="RS256"), fake_github.state.app, now
        )


def test_key_of_another_app_is_reported_without_echoing_it(fake_github, clock, commands):
    fake_github.state.install(REPO, DEPLOY_PERMISSIONS)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(ReportError, match="private key you passed") as caught:
        _connect(fake_github, pem, clock, commands)
    assert pem.splitlines()[1] not in str(caught.value)


def test_installation_token_is_scoped_to_the_repository_and_masked_first(
    fake_github, app_pem, clock, commands, log
):
    fake_github.state.install(REPO, {**DEPLOY_PERMISSIONS, "administration": "write"})
    fake_github.state.install("acme/other", {})

    connection = _connect(fake_github, app_pem, clock, commands)

    (mint,) = fake_github.state.requests_to("POST", r"/app/installations/\d+/access_tokens")
    assert mint.body == {"repositories": ["platform"], "permissions": dict(DEPLOY_PERMISSIONS)}
    (token,) = [t for t in fake_github.state.tokens.values() if t.kind == "installation"]
    assert token.repositories == {REPO}
    assert "administration" not in token.permissions
    # Masked as soon as it was minted: connect_app has returned, no request has used the token yet.
    assert token.token in _masks(log)
    assert not [
        r for r in fake_github.state.requests if r.headers.get("authorization") == f"token {token.token}"
    ]
    assert all(
        token.token not in line for line in log.getvalue().splitlines() if not line.startswith("::add-mask::")
    )
    # The scope holds: the same installation's other repository is invisible to this token.
    other = GitHubReporter(dataclasses.replace(connection, repository="acme/other"))
    fake_github.state.add_pull("acme/other", 1)
    with pytest.raises(ReportError, match="not found"):
        other.find_sticky_comment(1, "clusters/prod")


def test_token_is_minted_again_before_it_expires(fake_github, app_pem, clock, commands, log):
    fake_github.state.install(REPO, PREVIEW_PERMISSIONS)
    fake_github.state.add_pull(REPO, 7)
    reporter = GitHubReporter(
        _connect(fake_github, app_pem, clock, commands, permissions=PREVIEW_PERMISSIONS)
    )

    reporter.find_sticky_comment(7, "clusters/prod")
    clock.advance(1800)  # half an hour: the first token is still good
    reporter.find_sticky_comment(7, "clusters/prod")
    clock.advance(1800 - 120)  # two minutes before expiry: a request now could outlive the token
    reporter.find_sticky_comment(7, "clusters/prod")

    minted = [t.token for t in fake_github.state.tokens.values() if t.kind == "installation"]
    used = [r.headers["authorization"] for r in fake_github.state.requests_to("GET", r"/repos/.+/comments")]
    assert len(minted) == 2
    assert used == [f"token {minted[0]}", f"token {minted[0]}", f"token {minted[1]}"]
    assert set(minted) <= set(_masks(log))
    clock.advance(3600)  # an hour later again: without a refresh the fake would answer 401
    reporter.find_sticky_comment(7, "clusters/prod")
    assert len([t for t in fake_github.state.tokens.values() if t.kind == "installation"]) == 3


def test_not_installed_names_the_fix(fake_github, app_pem, clock, commands):
    fake_github.state.install("acme/elsewhere", DEPLOY_PERMISSIONS)
    with pytest.raises(ReportError) as caught:
        _connect(fake_github, app_pem, clock, commands)
    message = str(caught.value)
    assert f"fluxpush-test is not installed on {REPO}" in message
    assert f"{fake_github.web_url}/apps/fluxpush-test/installations/new" in message


def test_missing_permission_is_named_and_no_token_is_minted(fake_github, app_pem, clock, commands):
    fake_github.state.install(REPO, {"pull_requests": "read", "checks": "write"})
    with pytest.raises(ReportError) as caught:
        _connect(fake_github, app_pem, clock, commands, permissions=PREVIEW_PERMISSIONS)
    assert "lacks `pull_requests: write`" in str(caught.value)
    assert "Permissions & events" in str(caught.value)
    assert not fake_github.state.requests_to("POST", r"/app/installations/\d+/access_tokens")


def test_enterprise_server_api_prefix_from_github_api_url(app_key, app_pem, clock, commands):
    with FakeGitHub(app_key.public_key(), prefix="/api/v3", clock=clock) as ghes:
        ghes.state.install(REPO, PREVIEW_PERMISSIONS)
        api_url = ghes.base_url
        assert api_url.endswith("/api/v3")
        connection = _connect(
            ghes, app_pem, clock, commands, api_url=api_url, permissions=PREVIEW_PERMISSIONS
        )
        assert connection.api_url == ghes.base_url
        assert requests.get(f"{ghes.web_url}/app", timeout=5).status_code == 404  # only /api/v3 is served


def test_private_key_survives_the_usual_secret_damage(app_key, app_pem, tmp_path):
    expected = app_key.public_key().public_numbers()
    keyfile = tmp_path / "app.pem"
    keyfile.write_text(app_pem)
    variants = {
        "literal-backslash-n": app_pem.strip().replace("\n", "\\n"),
        "quoted": f'"{app_pem}"',
        "crlf": app_pem.replace("\n", "\r\n"),
        "base64": base64.b64encode(app_pem.encode()).decode(),
        "file-path": str(keyfile),
    }
    for name, text in variants.items():
        assert (name, load_private_key(text).public_key().public_numbers()) == (name, expected)


def test_unusable_private_key_is_a_clear_error_that_does_not_echo_it():
    secretish = "-----BEGIN RSA PRIVATE KEY-----\nMIIEnotakeyatallZZZZ\n-----END RSA PRIVATE KEY-----"
    with pytest.raises(ReportError, match="not a PEM RSA private key") as caught:
        load_private_key(secretish)
    assert "MIIEnotakeyatallZZZZ" not in str(caught.value)


def test_plain_token_fallback_authors(fake_github, commands, log):
    fake_github.state.add_user_token("ghp_personal", "octo-dev")
    fake_github.state.add_actions_token("ghs_actions", REPO, {"pull_requests": "write"})
    args = {"api_url": fake_github.base_url, "options": FAST, "commands": commands}

    assert connect_token(REPO, "ghp_personal", **args).bot_login == "octo-dev"
    actions = connect_token(REPO, "ghs_actions", **args)
    assert (actions.bot_login, actions.is_app) == (ACTIONS_BOT_LOGIN, False)
    assert {"ghp_personal", "ghs_actions"} <= set(_masks(log))
    with pytest.raises(ReportError, match="rejected github-token"):
        connect_token(REPO, "ghp_revoked", **args)


def test_unreachable_api_is_a_report_error_naming_github_api_url(commands):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(
        ReportError, match=rf"cannot reach the GitHub API at http://127\.0\.0\.1:{port}: .*GITHUB_API_URL"
    ):
        connect_token(REPO, "ghp_x", api_url=f"http://127.0.0.1:{port}", options=FAST, commands=commands)
