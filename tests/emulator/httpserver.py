"""A small threaded HTTP/1.1 server with keep-alive, used by both emulator ports.

The stdlib server is used instead of werkzeug's development server because werkzeug closes
every connection after one response (no keep-alive), which would make every SDK request pay a
TCP (and TLS) handshake and distort benchmarks, and because fault injection needs the raw socket
(connection reset = close with SO_LINGER 0, which sends RST).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

MAX_BODY = 64 * 1024 * 1024


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str  # percent-decoded path, without the query string
    raw_path: str  # path as sent (still percent-encoded)
    query: str  # raw query string
    headers: dict[str, str]  # lower-cased names
    body: bytes
    scheme: str
    host: str  # Host header value (host:port)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}"


@dataclass
class Response:
    """What an application returns; ``reset`` aborts the TCP connection instead."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    reset: bool = False

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


App = Callable[[Request], Response]


def _abort_connection(sock: socket.socket) -> None:
    """Close with SO_LINGER 0 so the peer gets a TCP RST ("connection reset by peer")."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def log_message(self, format: str, *args: object) -> None:
        return None

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, ssl.SSLError, OSError):
            self.close_connection = True

    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _serve(self) -> None:
        raw_path, _, query = self.path.partition("?")
        request = Request(
            method=self.command.upper(),
            path=unquote(raw_path),
            raw_path=raw_path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self._read_body(),
            scheme=self.server.scheme,
            host=self.headers.get("Host") or self.server.netloc,
        )
        try:
            response = self.server.app(request)
        except Exception:  # a bug in the emulator: answer 500 and keep the connection
            traceback.print_exc()
            body = b'{"error":{"code":"generalException","message":"Emulator bug, see stderr."}}'
            response = Response(500, [("Content-Type", "application/json")], body)
        if response.reset:
            _abort_connection(self.connection)
            self.server.aborted.add(self.connection.fileno())
            self.close_connection = True
            return
        self._write(response)

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        names = {k.lower() for k, _ in response.headers}
        for key, value in response.headers:
            self.send_header(key, value)
        if "content-length" not in names and response.status not in (204, 304):
            self.send_header("Content-Length", str(len(response.body)))
        if "date" not in names:
            self.send_header("Date", formatdate(usegmt=True))
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)
        self.wfile.flush()

    def send_response(self, code: int, message: str | None = None) -> None:
        # Skip BaseHTTPRequestHandler's Server/Date headers: we add our own Date.
        self.log_request(code)
        self.send_response_only(code, message)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, host: str, port: int, app: App, ssl_context: ssl.SSLContext | None):
        self.app = app
        self.ssl_context = ssl_context
        self.aborted: set[int] = set()  # sockets to close without FIN (RST via SO_LINGER 0)
        self.scheme = "https" if ssl_context else "http"
        super().__init__((host, port), _Handler)
        self.netloc = f"{host}:{self.server_address[1]}"

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, addr

    def handle_error(self, request: object, client_address: object) -> None:
        return None

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        fd = request.fileno()
        if fd in self.aborted:
            self.aborted.discard(fd)
            request.close()  # no shutdown(SHUT_WR): the peer sees a reset, not an EOF
            return
        super().shutdown_request(request)


class ServerThread:
    """Runs one app on one port in a daemon thread."""

    def __init__(
        self, app: App, host: str = "127.0.0.1", port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._server = _Server(host, port, app, ssl_context)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name=f"entra-emulator-{self.port}", daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
