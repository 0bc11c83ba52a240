"""The connection pool against kubesim over real TLS: reuse, TLS server names, CONNECT proxies.

The proxy is a small CONNECT tunnel in this file that records what it was asked, so the tests
see the same bytes a corporate proxy would.
"""

from __future__ import annotations

import base64
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kubernetes.client import Configuration

from fluxpush.errors import ClusterError
from fluxpush.kube import KubeClient
from fluxpush.kube.connection import BEARER, ClusterConnection, connect_sandbox
from fluxpush.kube.http import ConnectionPool, _is_dropped
from fluxpush.kube.transport import Call, Transport


def _configuration(sim, **settings) -> Configuration:
    configuration = connect_sandbox(sim).configuration
    for name, value in settings.items():
        setattr(configuration, name, value)
    return configuration


def _client(sim, **settings) -> KubeClient:
    return KubeClient(ClusterConnection("test", _configuration(sim, **settings)))


@dataclass
class Tunnel:
    """A CONNECT proxy on 127.0.0.1: `requests` holds each request line and its headers."""

    port: int
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        sink.close()


@pytest.fixture
def tunnel() -> Iterator[Tunnel]:
    record = Tunnel(0)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            line = self.rfile.readline().decode().strip()
            headers = {}
            while (header := self.rfile.readline().decode().strip()):
                name, _, value = header.partition(":")
                headers[name.strip().lower()] = value.strip()
            record.requests.append((line, headers))
            host, _, port = line.split()[1].rpartition(":")
            upstream = socket.create_connection((host, int(port)))
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            back = threading.Thread(target=_pipe, args=(upstream, self.connection), daemon=True)
            back.start()
            _pipe(self.connection, upstream)
            back.join(5)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    record.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield record
    server.shutdown()
    server.server_close()


def test_sequential_requests_reuse_one_connection(sim):
    with _client(sim) as kube:
        for _ in range(5):
            kube.list("v1", "Namespace")
        assert len(kube._transport._pool._idle) == 1, "one keep-alive connection serves them all"


def test_a_connection_the_server_closed_is_not_reused(sim):
    pool = ConnectionPool(_configuration(sim), 4)
    token = _configuration(sim).auth_settings()[BEARER]["value"]
    headers = {"Authorization": token, "Accept": "application/json"}
    assert pool.request("GET", "/api/v1/namespaces", None, headers, (5.0, 5.0)).status == 200
    (idle,) = pool._idle
    idle.sock.shutdown(socket.SHUT_RD)  # reads as closed by the peer, like a keep-alive timeout
    assert _is_dropped(idle.sock)
    assert pool.request("GET", "/api/v1/namespaces", None, headers, (5.0, 5.0)).status == 200
    assert pool._idle and pool._idle[0] is not idle, "a fresh connection replaced the dropped one"
    pool.close()


def test_an_open_idle_connection_is_not_taken_for_dropped():
    left, right = socket.socketpair()
    with left, right:
        assert not _is_dropped(left)
        right.close()
        assert _is_dropped(left)


def test_tls_server_name_is_what_the_certificate_is_checked_against(sim):
    # kubesim's certificate names IP 127.0.0.1 and DNS localhost, and nothing else.
    with _client(sim, tls_server_name="localhost") as kube:
        assert kube.list("v1", "Namespace")
    with _client(sim, tls_server_name="api.other.example") as kube, pytest.raises(ClusterError) as caught:
        kube.list("v1", "Namespace")
    assert "TLS with" in caught.value.message and "api.other.example" in caught.value.message


def test_requests_go_through_an_http_connect_proxy_with_its_credentials(sim, tunnel):
    proxy = f"http://ops:s3cret@127.0.0.1:{tunnel.port}"
    with _client(sim, proxy=proxy) as kube:
        assert kube.list("v1", "Namespace")
    line, headers = tunnel.requests[0]
    assert line.startswith(f"CONNECT 127.0.0.1:{sim.port} HTTP/1.")  # 1.0 up to Python 3.11
    assert headers["proxy-authorization"] == "Basic " + base64.b64encode(b"ops:s3cret").decode()


def test_no_proxy_bypasses_the_proxy(sim):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]  # nothing listens here once the socket closes
    with _client(sim, proxy=f"http://127.0.0.1:{dead}", no_proxy="example.com,127.0.0.1") as kube:
        assert kube.list("v1", "Namespace")


@pytest.mark.parametrize("no_proxy", ["127.0.0.0/8", "*", "localhost,127.0.0.1:{port}"])
def test_no_proxy_matches_networks_wildcards_and_host_ports(sim, no_proxy):
    with _client(sim, proxy="http://127.0.0.1:9", no_proxy=no_proxy.format(port=sim.port)) as kube:
        assert kube.list("v1", "Namespace")


def test_a_socks_proxy_is_refused_with_a_clear_error(sim):
    with pytest.raises(ClusterError) as caught:
        _client(sim, proxy="socks5://127.0.0.1:1080")
    assert "only http:// proxies" in caught.value.message
    assert "proxy-url" in (caught.value.hint or "") and "NO_PROXY" in (caught.value.hint or "")


class _CountingHandler(BaseHTTPRequestHandler):
    """Answers `{}` after 50 ms, counting how many requests it is serving at once."""

    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    serving = 0
    most = 0

    def do_GET(self) -> None:
        cls = type(self)
        with cls.lock:
            cls.serving += 1
            cls.most = max(cls.most, cls.serving)
        time.sleep(0.05)
        with cls.lock:
            cls.serving -= 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def test_requests_in_flight_are_capped_for_the_whole_transport():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sender = Transport(ClusterConnection("plain", Configuration(host=f"http://127.0.0.1:{server.server_port}")),
                       max_in_flight=3)
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(lambda _: sender.json(Call("GET", "/api")), range(24)))
    finally:
        sender.close()
        server.shutdown()
        server.server_close()
    assert answers == [{}] * 24
    assert _CountingHandler.most == 3, "12 threads sending, never more than the cap at the server"


def test_a_cap_below_one_request_is_refused():
    with pytest.raises(ValueError, match="max_in_flight must be at least 1, not 0"):
        Transport(ClusterConnection("plain", Configuration(host="http://127.0.0.1:1")), max_in_flight=0)
