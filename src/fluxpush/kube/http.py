"""Keep-alive HTTP(S) connections to one API server, shared by threads, on the standard library.

Built from the kubernetes client's `Configuration` as its own REST client reads it: the server URL
(a path prefix included), TLS (`verify_ssl`, `ssl_ca_cert` or `ca_cert_data`, a client
certificate, `assert_hostname`, `tls_server_name`) and an HTTP proxy reached by CONNECT
(`proxy`, `proxy_headers`, `no_proxy`; the configuration takes them from `HTTPS_PROXY` and
`NO_PROXY` unless the kubeconfig sets `proxy-url`). A large apply sends thousands of small
requests from one process, and urllib3's layers cost about as much CPU per request as
`http.client` itself, so this pool talks `http.client` directly.

A connection is reused only when the server has not closed it meanwhile (it is polled first), so
a request is never sent twice behind the caller's back. Failures are raised as they come:
`TLSFailure` for a handshake or certificate problem, `OSError` or `http.client.HTTPException` for
everything else.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import select
import socket
import ssl
import threading
from dataclasses import dataclass
from email.message import Message
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from kubernetes.client import Configuration

class TLSFailure(Exception):
    """The TLS handshake with the server failed (a wrong CA, a certificate for another name)."""


class UnsupportedProxy(Exception):
    """The configuration names a proxy this pool cannot use (only HTTP CONNECT proxies work)."""


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A server's answer, its body read whole."""

    status: int
    headers: Message
    data: bytes = b""


def tls_context(configuration: Configuration) -> ssl.SSLContext:
    """The TLS settings of `configuration` as an `SSLContext`."""
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None,
                                         cadata=getattr(configuration, "ca_cert_data", None) or None)
    if not configuration.verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif configuration.assert_hostname is False:
        context.check_hostname = False
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file or None)
    return context


def _bypasses_proxy(host: str, port: int, no_proxy: str) -> bool:
    """Whether `no_proxy` covers the server: `*`, a host or `host:port`, a domain (with or without a
    leading dot) and its subdomains, or an IP network such as `10.0.0.0/8`."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (part.strip().lower().lstrip(".") for part in no_proxy.split(",")):
        if entry == "*" or entry in (host, f"{host}:{port}") or (entry and host.endswith(f".{entry}")):
            return True
        if address is not None and "/" in entry:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def _proxy_headers(configuration: Configuration) -> dict[str, str]:
    """Headers for the proxy's CONNECT: the configured ones, with Basic auth from the proxy URL's user."""
    headers = dict(configuration.proxy_headers or {})
    url = urlsplit(str(configuration.proxy))
    if url.username and not any(name.lower() == "proxy-authorization" for name in headers):
        secret = base64.b64encode(f"{url.username}:{url.password or ''}".encode()).decode()
        headers["Proxy-Authorization"] = f"Basic {secret}"
    return headers


class _Connection(http.client.HTTPSConnection):
    """An HTTPS connection whose TLS server name can differ from the host dialled (`tls_server_name`)."""

    def __init__(self, host: str, port: int, *, timeout: float, tls: ssl.SSLContext,
                 server_name: str) -> None:
        super().__init__(host, port, timeout=timeout, context=tls)
        self._tls = tls
        self._server_name = server_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)  # TCP, then the proxy's CONNECT tunnel when set
        try:
            self.sock = self._tls.wrap_socket(self.sock, server_hostname=self._server_name)
        except ssl.SSLError as exc:  # a certificate error is one too
            self.sock.close()
            raise TLSFailure(str(exc)) from exc


class ConnectionPool:
    """Up to `size` idle keep-alive connections to one server; any number in use at once."""

    def __init__(self, configuration: Configuration, size: int) -> None:
        url = urlsplit(configuration.host)
        self._https = url.scheme == "https"
        self._host = url.hostname or ""
        self._port = url.port or (443 if self._https else 80)
        self.prefix = url.path.rstrip("/")  # a server URL may hold a path (a cluster behind a gateway)
        self._tls = tls_context(configuration) if self._https else None
        self._server_name = configuration.tls_server_name or self._host
        self._proxy: tuple[str, int, dict[str, str]] | None = None
        proxy = configuration.proxy
        if proxy and not _bypasses_proxy(self._host, self._port, configuration.no_proxy or ""):
            proxy_url = urlsplit(proxy)
            if proxy_url.scheme not in ("http", ""):
                raise UnsupportedProxy(f"proxy {proxy_url.scheme}://{proxy_url.hostname}: only http:// "
                                       "proxies (HTTP CONNECT) are supported")
            self._proxy = (proxy_url.hostname or "", proxy_url.port or 80, _proxy_headers(configuration))
        self._size = size
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def request(self, method: str, target: str, body: bytes | None, headers: dict[str, str],
                timeout: tuple[float, float]) -> RawResponse:
        """Send one request (`target`: path and query, without the server's prefix) and read the answer."""
        connection = self._take(timeout)
        try:
            connection.request(method, self.prefix + target, body=body, headers=headers)
            raw = connection.getresponse()
            data = raw.read()
        except BaseException:
            connection.close()
            raise
        self.release(connection, raw)
        return RawResponse(raw.status, raw.headers, data)

    def release(self, connection: http.client.HTTPConnection, raw: http.client.HTTPResponse) -> None:
        """Keep `connection` for the next request if its answer was read whole and it stays open."""
        if not raw.isclosed() or raw.will_close:
            connection.close()
            return
        with self._lock:
            if len(self._idle) < self._size:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        """Close every idle connection (those in use close when their request ends)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _take(self, timeout: tuple[float, float]) -> http.client.HTTPConnection:
        connect_timeout, read_timeout = timeout
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                break
            if connection.sock is not None and not _is_dropped(connection.sock):
                connection.sock.settimeout(read_timeout)
                return connection
            connection.close()
        connection = self._new(connect_timeout)
        try:
            connection.connect()
        except BaseException:  # a refused tunnel leaves the proxy's socket open otherwise
            connection.close()
            raise
        assert connection.sock is not None
        connection.sock.settimeout(read_timeout)
        return connection

    def _new(self, connect_timeout: float) -> http.client.HTTPConnection:
        host, port = (self._proxy[0], self._proxy[1]) if self._proxy else (self._host, self._port)
        connection: http.client.HTTPConnection
        if self._tls is not None:
            connection = _Connection(host, port, timeout=connect_timeout, tls=self._tls,
                                     server_name=self._server_name)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=connect_timeout)  # `http://` server
        if self._proxy:
            connection.set_tunnel(self._host, self._port, headers=self._proxy[2])
        return connection


def _is_dropped(sock: socket.socket) -> bool:
    """Whether an idle connection's socket is readable: the server closed it (or sent unasked data)."""
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True
