"""InfluxDBDouble: the HTTP server (stdlib ThreadingHTTPServer) and its Python API."""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .api_inspect import find_bucket
from .api_setup import onboard, setup_from_init
from .app import App, encode_body
from .config import DoubleConfig, InitSetup
from .context import Context
from .routing import Request
from .stats import Stats
from .store import Clock, Onboarding, Store

SERVER_NAME = "StreamLab-InfluxDB-Test-Double"
# How often the serving thread looks for stop(); short so that tests tear down quickly.
_SHUTDOWN_POLL_S = 0.02


class InfluxDBDouble:
    """An InfluxDB 2.7 test double on host:port (port 0 picks a free port).

    with InfluxDBDouble() as influx:
        client = InfluxDBClient(url=influx.url, token=...)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: DoubleConfig | None = None,
        clock: Clock = time.time_ns,
        log_requests: bool = False,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.config = config or DoubleConfig()
        self.store = Store(clock)
        self.stats = Stats()
        self._context = Context(self.store, self.stats, self.config, clock())
        self._app = App(self._context, self.reset)
        self._log_requests = log_requests
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._apply_init_setup()

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> InfluxDBDouble:
        self._server = self._bind()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _SHUTDOWN_POLL_S},
            name="influxdb-double",
            daemon=True,
        )
        self._thread.start()
        return self

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

    def __enter__(self) -> InfluxDBDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _bind(self) -> ThreadingHTTPServer:
        handler = type("BoundHandler", (_Handler,), {"app": self._app, "log": self._log_requests})
        server = ThreadingHTTPServer((self.host, self._requested_port), handler)
        server.daemon_threads = True
        return server

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the InfluxDB double is not running: call start() first")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- state for tests ---------------------------------------------------------------

    def setup(
        self,
        username: str,
        password: str,
        org: str,
        bucket: str,
        retention_seconds: int = 0,
        token: str | None = None,
    ) -> Onboarding:
        """Onboard without HTTP, as POST /api/v2/setup would."""
        init = InitSetup(username, password, org, bucket, retention_seconds, token)
        return onboard(self.store, setup_from_init(init))

    def points(
        self, bucket: str, measurement: str | None = None, org: str | None = None
    ) -> list[dict[str, Any]]:
        """Stored points of a bucket (by name), as GET /_double/points returns them."""
        return self.store.points(find_bucket(self.store, bucket, org).id, measurement)

    @property
    def write_requests(self) -> int:
        return self.stats.value("write_requests")

    @property
    def lines_written(self) -> int:
        return self.stats.value("lines_written")

    def reset(self, points_only: bool = False) -> None:
        """Forget points and counters; unless points_only, everything, back to startup."""
        self.stats.reset()
        if points_only:
            self.store.clear_points()
            return
        self.store.clear()
        self._apply_init_setup()

    def _apply_init_setup(self) -> None:
        if self.config.init is not None:
            onboard(self.store, setup_from_init(self.config.init))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two sends; without TCP_NODELAY, keep-alive clients wait
    # for the delayed ACK (about 40 ms) on every request.
    disable_nagle_algorithm = True
    app: App
    log: bool

    def version_string(self) -> str:
        return SERVER_NAME

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
        query = {key: values[0] for key, values in parse_qs(url.query, True).items()}
        request = Request(self.command, url.path, query, self.headers, self._read_body())
        response = self.app.handle(request)
        body, content_type = encode_body(response)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

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
        if self.log:
            sys.stderr.write(f"influxdb-double: {format % args}\n")
