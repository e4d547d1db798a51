"""The HTTP plumbing every test double shares: a stdlib ThreadingHTTPServer speaking HTTP/1.1
keep-alive, served from a background thread (tests) or the calling thread (the CLI).

A double supplies one function, RawRequest -> RawResponse; routing, errors and bodies are its
own business. Nothing here knows which service is being doubled.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# How often the serving thread looks for stop(); short so that tests tear down quickly.
_SHUTDOWN_POLL_S = 0.02


@dataclass(frozen=True)
class RawRequest:
    method: str
    path: str
    # Every value of each query parameter, in order (?tag=a&tag=b gives ["a", "b"]).
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


Handle = Callable[[RawRequest], RawResponse]


class DoubleServer:
    """Serves `handle` on host:port (port 0 picks a free port)."""

    def __init__(
        self,
        handle: Handle,
        host: str,
        port: int,
        *,
        name: str,
        server_header: str,
        log_requests: bool = False,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._handle = handle
        self._name = name
        self._server_header = server_header
        self._log_requests = log_requests
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._server = self._bind()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _SHUTDOWN_POLL_S},
            name=self._name,
            daemon=True,
        )
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI)."""
        self._server = self._bind()
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server, self._thread = None, None

    @property
    def port(self) -> int | None:
        """The bound port, or None when not serving."""
        return None if self._server is None else self._server.server_address[1]

    def _bind(self) -> ThreadingHTTPServer:
        attributes = {
            "respond": staticmethod(self._handle),
            "server_header": self._server_header,
            "log_prefix": self._name if self._log_requests else None,
        }
        handler = type("BoundHandler", (_Handler,), attributes)
        server = ThreadingHTTPServer((self.host, self._requested_port), handler)
        server.daemon_threads = True
        return server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two sends; without TCP_NODELAY, keep-alive clients wait
    # for the delayed ACK (about 40 ms) on every request.
    disable_nagle_algorithm = True
    respond: Handle
    server_header: str
    log_prefix: str | None

    def version_string(self) -> str:
        return self.server_header

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        request = RawRequest(self.command, url.path, query, self.headers, self._read_body())
        response = self.respond(request)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline().strip():
            pass  # trailer headers end with an empty line
        return b"".join(chunks)

    def log_message(self, format: str, *args: Any) -> None:
        if self.log_prefix:
            sys.stderr.write(f"{self.log_prefix}: {format % args}\n")
