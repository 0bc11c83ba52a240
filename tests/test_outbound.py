"""fluxpush.outbound against loopback HTTP servers: the retry rules of go-retryablehttp (what Flux's
notification-controller and source-controller send with), Retry-After within a bound, the size
limit, proxies from the caller and from the environment, basic auth from a URL's userinfo, and
errors that never quote a secret."""

from __future__ import annotations

import base64
import socket

import pytest

from fluxpush.errors import EndpointError, SourceError
from fluxpush.outbound import Retries, Session
from fluxpush.redact import register_secret
from fluxpush.registry import Location, Registry
from http_receiver import DROP, Receiver
from kubesim.tls import generate_certs

FAST = Retries(retries=3, min_wait=0.01, max_wait=0.05)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_get_is_retried_on_503_and_a_dropped_connection(receiver: Receiver) -> None:
    receiver.answer("/index.yaml", (503, b"busy"), (DROP, b""), (200, b"entries: {}"))
    reply = Session(policy=FAST).request("GET", f"{receiver.url}/index.yaml")
    assert (reply.status, reply.body, reply.attempts) == (200, b"entries: {}", 3)
    assert len(receiver.at("/index.yaml")) == 3


def test_retries_end_with_the_last_problem_and_the_count(receiver: Receiver) -> None:
    receiver.answer("/v2/app/tags/list", (502, b"bad gateway"))
    with pytest.raises(EndpointError) as caught:
        Session(policy=FAST).request("GET", f"{receiver.url}/v2/app/tags/list")
    assert caught.value.status == 502 and caught.value.attempts == 4
    assert str(caught.value) == (f"GET {receiver.url}/v2/app/tags/list: HTTP 502: bad gateway "
                                 "(after 4 attempts)")
    assert len(receiver.requests) == 4


def test_a_refused_connection_is_retried_then_named() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/index.yaml"
    with pytest.raises(EndpointError) as caught:
        Session(policy=FAST).request("GET", url)
    assert caught.value.status is None and caught.value.attempts == 4
    assert "ConnectionRefusedError" in caught.value.problem and "after 4 attempts" in str(caught.value)


@pytest.mark.parametrize("status", [400, 401, 404, 501])
def test_final_refusals_are_not_retried(receiver: Receiver, status: int) -> None:
    receiver.answer("/chart.tgz", (status, b"no", {"WWW-Authenticate": 'Bearer realm="x"'}))
    with pytest.raises(EndpointError) as caught:
        Session(policy=FAST).request("GET", f"{receiver.url}/chart.tgz")
    assert caught.value.status == status and len(receiver.requests) == 1
    assert caught.value.headers["www-authenticate"] == 'Bearer realm="x"'  # for the registry's token dance


def test_a_post_is_not_retried_unless_the_caller_says_it_is_safe(receiver: Receiver) -> None:
    receiver.answer("/hook", (503, b"busy"), (200, b"ok"))
    with pytest.raises(EndpointError, match=r"POST .*/hook: HTTP 503: busy$"):
        Session(policy=FAST).request("POST", f"{receiver.url}/hook", b"{}")
    assert len(receiver.at("/hook")) == 1
    receiver.answer("/hook", (503, b"busy"), (200, b"ok"))
    reply = Session(policy=FAST).request("POST", f"{receiver.url}/hook", b"{}", retry_unsafe=True)
    assert reply.attempts == 2 and [r.method for r in receiver.at("/hook")] == ["POST"] * 3


@pytest.mark.parametrize(("retry_after", "max_wait", "low", "high"), [
    ("1", 5.0, 1.0, 1.9),      # honoured: longer than the backoff would wait (0.01 s)
    ("3600", 0.3, 0.3, 0.9),   # bounded by max_wait, not an hour
])
def test_429_retry_after_is_honoured_within_the_bound(receiver: Receiver, retry_after: str, max_wait: float,
                                                      low: float, high: float) -> None:
    receiver.answer("/hook", (429, b"slow down", {"Retry-After": retry_after}), (200, b"ok"))
    policy = Retries(retries=2, min_wait=0.01, max_wait=max_wait)
    Session(policy=policy).request("GET", f"{receiver.url}/hook")
    first, second = receiver.at("/hook")
    assert low <= second.at - first.at < high


def test_the_timeout_bounds_the_whole_call_retries_included(receiver: Receiver) -> None:
    receiver.answer("/slow", (503, b"busy"))
    with pytest.raises(EndpointError, match=r"gave up: timeout 0.5s"):
        Session(timeout=0.5, policy=Retries(retries=10, min_wait=0.2, max_wait=1.0)).request(
            "GET", f"{receiver.url}/slow")
    assert len(receiver.requests) <= 3


def test_an_answer_over_the_size_limit_is_refused_unread_and_not_retried(receiver: Receiver) -> None:
    receiver.answer("/index.yaml", (200, b"x" * 1001))
    with pytest.raises(EndpointError, match="the answer is larger than 1000 bytes"):
        Session(policy=FAST, max_body=1000).request("GET", f"{receiver.url}/index.yaml")
    assert len(receiver.requests) == 1
    receiver.answer("/index.yaml", (200, b"x" * 1000))
    assert len(Session(policy=FAST, max_body=1000).request("GET", f"{receiver.url}/index.yaml").body) == 1000


def test_the_callers_proxy_gets_the_request(make_receiver) -> None:
    proxy = make_receiver()
    Session(policy=FAST, proxy=proxy.url).request("GET", "http://charts.fluxpush.invalid/index.yaml")
    [seen] = proxy.requests
    assert seen.path == "http://charts.fluxpush.invalid/index.yaml"  # the absolute form a proxy is sent


def test_the_environments_proxy_and_no_proxy_are_honoured(make_receiver, monkeypatch) -> None:
    proxy, direct = make_receiver(), make_receiver()
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    Session(policy=FAST).request("GET", "http://charts.fluxpush.invalid/index.yaml")
    Session(policy=FAST).request("GET", f"{direct.url}/index.yaml")
    assert [r.path for r in proxy.requests] == ["http://charts.fluxpush.invalid/index.yaml"]
    assert [r.path for r in direct.requests] == ["/index.yaml"]


def test_userinfo_in_a_url_is_sent_as_basic_auth_and_never_shown(receiver: Receiver) -> None:
    host = receiver.url.removeprefix("http://")
    receiver.answer("/hook", (500, b"nope"))
    with pytest.raises(EndpointError) as caught:
        Session(policy=Retries(retries=0)).request("POST", f"http://bot:pa%3Ass@{host}/hook", b"{}")
    assert receiver.requests[0].headers["authorization"] == "Basic " + base64.b64encode(b"bot:pa:ss").decode()
    assert str(caught.value) == f"POST http://{host}/hook: HTTP 500: nope"


def test_secret_values_are_masked_in_errors(receiver: Receiver) -> None:
    register_secret("T0ken-in-the-path")
    register_secret("echoed-api-key")
    receiver.answer("/hooks/T0ken-in-the-path", (403, b"bad key echoed-api-key"))
    with pytest.raises(EndpointError) as caught:
        Session(policy=FAST).request("POST", f"{receiver.url}/hooks/T0ken-in-the-path?sig=query-secret",
                                     b"{}")
    message = str(caught.value)
    assert message == f"POST {receiver.url}/hooks/***: HTTP 403: bad key ***"
    assert "query-secret" not in message  # the query (signatures, tokens) is never shown


def test_tls_is_checked_against_the_system_bundle_or_the_given_ca_file(make_receiver, tmp_path) -> None:
    certs = generate_certs("outbound")
    server = make_receiver()
    server.server.socket = certs.server_context().wrap_socket(server.server.socket, server_side=True)
    url = server.url.replace("http://", "https://") + "/index.yaml"
    with pytest.raises(EndpointError) as caught:
        Session(policy=FAST).request("GET", url)
    assert caught.value.tls and caught.value.attempts == 1  # a certificate that is wrong stays wrong
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.problem
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(certs.ca_pem)
    assert Session(policy=FAST, ca_file=str(ca_file)).request("GET", url).body == b"ok"


def test_a_registry_spoken_to_over_tls_that_answers_plain_http_suggests_insecure(receiver: Receiver) -> None:
    # Decided by EndpointError.tls (the handshake failed), no longer by "SSL" in a message.
    host = receiver.url.removeprefix("http://")
    registry = Registry(Location(f"https://{host}", "app"), None)
    with pytest.raises(SourceError, match=r"tags cannot be listed: .*\(fix: for a plain-HTTP registry set "
                                          r"insecure: true\)"):
        registry.tags()


def test_a_refusal_is_quoted_on_one_line_and_an_html_page_by_its_reason(receiver: Receiver) -> None:
    receiver.answer("/json", (400, b'{"error":\n  "bad payload"}'))
    receiver.answer("/html", (404, b"<!DOCTYPE HTML>\n<html><body><h1>Error response</h1></body></html>"))
    with pytest.raises(EndpointError) as json_refusal:
        Session(policy=FAST).request("GET", f"{receiver.url}/json")
    with pytest.raises(EndpointError) as html_refusal:
        Session(policy=FAST).request("GET", f"{receiver.url}/html")
    assert json_refusal.value.problem == 'HTTP 400: {"error": "bad payload"}'
    assert html_refusal.value.problem == "HTTP 404 Not Found"
