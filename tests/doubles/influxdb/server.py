"""InfluxDBDouble: the HTTP server (stdlib ThreadingHTTPServer) and its Python API."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from ..serving import DoubleServer, RawRequest, RawResponse
from .api_inspect import find_bucket
from .api_setup import onboard, setup_from_init
from .app import App, encode_body
from .config import DoubleConfig, InitSetup
from .context import Context
from .routing import Request
from .stats import Stats
from .store import Clock, Onboarding, Store

SERVER_NAME = "StreamLab-InfluxDB-Test-Double"


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
        self.config = config or DoubleConfig()
        self.store = Store(clock)
        self.stats = Stats()
        self._context = Context(self.store, self.stats, self.config, clock())
        self._app = App(self._context, self.reset)
        self._server = DoubleServer(
            self._respond,
            host,
            port,
            name="influxdb-double",
            server_header=SERVER_NAME,
            log_requests=log_requests,
        )
        self._apply_init_setup()

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> InfluxDBDouble:
        self._server.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI)."""
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> InfluxDBDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        port = self._server.port
        if port is None:
            raise RuntimeError("the InfluxDB double is not running: call start() first")
        return port

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

    def _respond(self, raw: RawRequest) -> RawResponse:
        query = {key: values[0] for key, values in raw.query.items()}
        response = self._app.handle(Request(raw.method, raw.path, query, raw.headers, raw.body))
        body, content_type = encode_body(response)
        headers = dict(response.headers)
        if content_type:
            headers["Content-Type"] = content_type
        return RawResponse(response.status, headers, body)
