"""The HTTP/1.1 server: stdlib ``ThreadingHTTPServer`` with keep-alive, one thread per connection.

Each response (status line, headers and body) goes out in a single write with
``TCP_NODELAY``, so a small response never waits on Nagle's algorithm and a big page
costs one ``sendall``. ``stop()`` also closes idle keep-alive connections, which
``shutdown()`` alone would leave open. Nothing is logged: request lines carry no
secrets, but headers do (bearer tokens), and Xero's tokens must never reach a log.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from xero_pipeline.sandbox.api.wire import TEXT, Request, Response

Dispatch = Callable[[Request], Response]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Kestrel"  # what Xero's API gateway announces
    sys_version = ""
    server: SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        req = Request(self.command, unquote(split.path), parse_qs(split.query, keep_blank_values=True),
                      self.headers, body)
        try:
            resp = self.server.dispatch(req)
        except Exception:
            resp = Response(500, traceback.format_exc().encode(), TEXT)
        try:
            self._send(resp)
        finally:
            for callback in resp.after:
                callback()

    def _send(self, resp: Response) -> None:
        if resp.delay > 0:
            time.sleep(resp.delay)
        if resp.reset:
            # Linger 0 makes the close send RST: the client sees "connection reset".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        body = resp.body
        if resp.truncate:
            body = body[: max(1, len(body) // 2)]
        try:
            reason = HTTPStatus(resp.status).phrase
        except ValueError:
            reason = ""
        head = [f"HTTP/1.1 {resp.status} {reason}", f"Server: {self.server_version}",
                f"Date: {self.date_time_string()}", f"Content-Length: {len(body)}"]
        if resp.content_type:
            head.append(f"Content-Type: {resp.content_type}")
        head.extend(f"{k}: {v}" for k, v in resp.headers.items())
        if self.close_connection:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(data + body if self.command != "HEAD" else data)


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], dispatch: Dispatch) -> None:
        super().__init__(address, _Handler)
        self.dispatch = dispatch
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # type: ignore[no-untyped-def]
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            conns = list(self._open)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ServerThread:
    """Serves ``dispatch`` on a background thread until ``stop``."""

    def __init__(self, dispatch: Dispatch, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.httpd = SandboxHTTPServer((host, port), dispatch)
        self.host, self.port = self.httpd.server_address[:2]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"xero-sandbox-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in str(self.host) else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.close_connections()
        self._thread.join(timeout=5)
