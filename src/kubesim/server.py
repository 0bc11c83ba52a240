"""The HTTPS transport: `KubeSim` serves a `Cluster` on 127.0.0.1 with TLS, auth, faults and a request log.

One thread per connection, HTTP/1.1 keep-alive, chunked transfer for watch streams. The TLS
handshake runs on the connection's own thread, so a slow client never blocks the accept loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kubesim.auth import Authenticator
from kubesim.cluster import Cluster, Options
from kubesim.errors import ApiError, internal_error
from kubesim.faults import Faults, LoggedRequest, RequestLog
from kubesim.handlers import Api, error_response
from kubesim.http import Request, Response
from kubesim.kubeconfig import build_kubeconfig, write_kubeconfig
from kubesim.tls import generate_certs

log = logging.getLogger(__name__)

CONNECTION_TIMEOUT = 300.0  # seconds an idle keep-alive connection (or a stuck write) may last
HANDSHAKE_TIMEOUT = 10.0  # seconds for the TLS handshake
MAX_BODY = 64 * 1024 * 1024  # bytes; far above kube-apiserver's 3 MiB object limit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubesim"
    sys_version = ""
    timeout = CONNECTION_TIMEOUT
    # Headers and body go out in separate writes; with Nagle on, the body waits for the client's
    # delayed ACK (about 40 ms on Linux), which made every request take ~45 ms instead of ~1 ms.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log records every request."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        sim = self.server.sim
        started = time.monotonic()
        request = Request.build(self.command, self.path, dict(self.headers.items()), b"")
        verb = sim.api.verb(request)

        def record(status: int) -> None:  # status 0: the connection was dropped without an answer
            sim.requests.add(LoggedRequest(
                method=request.method, path=request.path, query=dict(request.query), verb=verb,
                status=status, duration_ms=round((time.monotonic() - started) * 1000, 3),
                user_agent=request.headers.get("user-agent", ""),
                impersonate_user=request.headers.get("impersonate-user", ""),
            ))

        try:
            request.body = self._read_body()
        except ApiError as error:
            self.close_connection = True
            record(error.code)
            self._send(error_response(error))
            return
        sim.faults.delay()
        fault = sim.faults.take(verb, request.path)
        if fault is not None and fault.action == "drop":
            self.close_connection = True
            record(0)
            return
        response = self._answer(request) if fault is None else error_response(fault.error())
        if response.stream is None:
            record(response.status)  # before answering: a client that has its answer finds it logged
            self._send(response)
        else:
            try:
                self._send(response)
            finally:
                record(response.status)  # a watch is logged when it ends, with its whole duration

    def _answer(self, request: Request) -> Response:
        sim = self.server.sim
        try:
            sim.authenticator.authenticate(request.headers.get("authorization"))
            return sim.api.handle(request)
        except ApiError as error:
            return error_response(error)
        except Exception as exc:  # the connection thread is an entry point: answer 500, keep serving
            log.exception("kubesim: %s %s failed", request.method, request.path)
            return error_response(internal_error(f"Internal error occurred: {type(exc).__name__}"))

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.stream is None:
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        try:
            for chunk in response.stream:
                if not chunk:  # an idle tick of the stream
                    if _peer_closed(self.connection):
                        self.close_connection = True
                        break
                    continue
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            else:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except (OSError, ssl.SSLError):
            self.close_connection = True  # the client went away mid-stream
        finally:
            close = getattr(response.stream, "close", None)
            if close is not None:
                close()


def _peer_closed(conn: socket.socket) -> bool:
    """Whether the client hung up (or sent anything) while we stream: HTTP/1.1 clients wait silently."""
    readable, _, _ = select.select([conn], [], [], 0)
    return bool(readable)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, sim: KubeSim, port: int, context: ssl.SSLContext) -> None:
        self.sim = sim
        self.context = context
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return  # a client that gave up or does not trust the CA
        with self.connections_lock:
            self.connections.add(tls)
        try:
            self.RequestHandlerClass(tls, client_address, self)  # type: ignore[arg-type]  # typeshed: Self
        except (OSError, ssl.SSLError):
            pass
        finally:
            with self.connections_lock:
                self.connections.discard(tls)
            _close(tls)

    def close_connections(self) -> None:
        """Cut every open connection (keep-alive or watch) so clients see the server go away."""
        with self.connections_lock:
            open_now = list(self.connections)
        for conn in open_now:
            _close(conn)


def _close(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()


class KubeSim:
    """A simulated Kubernetes API server on https://127.0.0.1:PORT (a context manager)."""

    def __init__(self, options: Options | None = None, port: int = 0, token: str | None = None,
                 latency_ms: float = 0.0, aws_credentials: dict[str, str] | None = None,
                 request_log: str | os.PathLike[str] | None = None) -> None:
        self.options = options or Options()
        self.cluster = Cluster(self.options)
        self.authenticator = Authenticator(self.options.cluster_name, token, aws_credentials)
        self.faults = Faults(self.authenticator, latency_ms)
        self.requests = RequestLog(Path(request_log) if request_log else None)
        self._certs = generate_certs(self.options.cluster_name)
        self.ca_pem = self._certs.ca_pem
        self.api = Api(self.cluster)
        self._port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._controllers: Any = None

    @property
    def token(self) -> str:
        """The static bearer token accepted now (it changes after `faults.expire_tokens()`)."""
        return self.authenticator.token

    @property
    def port(self) -> int:
        """The bound port (after `start`)."""
        if self._httpd is None:
            raise RuntimeError("kubesim is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """`https://127.0.0.1:PORT`."""
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> KubeSim:
        """Bind, serve in a background thread and start the controllers; returns self."""
        if self._httpd is not None:
            return self
        self._httpd = _Server(self, self._port, self._certs.server_context())
        self.api.server_address = f"127.0.0.1:{self.port}"
        self.api.stopping.clear()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"kubesim-{self.port}", daemon=True)
        self._thread.start()
        # CRD registration lives in the controllers package and always runs, as in kube-apiserver;
        # the package itself only runs the workload controllers when Options.controllers is true.
        from kubesim.controllers import Controllers

        self._controllers = Controllers(self.cluster)
        self._controllers.start()
        return self

    def stop(self) -> None:
        """Stop serving: end watches, cut connections, stop the controllers."""
        if self._httpd is None:
            return
        self.api.stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        if self._controllers is not None:
            self._controllers.stop()
            self._controllers = None
        self._httpd = None
        self._thread = None

    def kubeconfig(self, namespace: str = "") -> dict[str, Any]:
        """A kubeconfig dict: one cluster/user/context named after the cluster, CA inline, the token."""
        return build_kubeconfig(self.options.cluster_name, self.url, self.ca_pem, self.token, namespace)

    def write_kubeconfig(self, path: str | os.PathLike[str], namespace: str = "") -> Path:
        """Write `kubeconfig()` to `path` with mode 0600; returns the Path."""
        return write_kubeconfig(self.kubeconfig(namespace), path)

    def __enter__(self) -> KubeSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
