"""GrafanaDouble: the HTTP server (doubles.serving) and its Python API."""

from __future__ import annotations

import copy
import time
from types import TracebackType
from typing import Any

from ..serving import DoubleServer, RawRequest, RawResponse
from .api_inspect import stored_dashboard
from .app import App, encode_body
from .config import DoubleConfig
from .render import datasource_json
from .routing import Request
from .stats import Stats
from .store import Clock, Store

SERVER_NAME = "StreamLab-Grafana-Test-Double"


class GrafanaDouble:
    """A Grafana 12 test double on host:port (port 0 picks a free port).

    with GrafanaDouble(config=DoubleConfig(admin_password="pw")) as grafana:
        api = GrafanaApi.from_url(grafana.url, credential=("admin", "pw"))
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: DoubleConfig | None = None,
        clock: Clock = time.time,
        log_requests: bool = False,
    ) -> None:
        self.host = host
        self.config = config or DoubleConfig()
        self.store = Store(clock)
        self.stats = Stats()
        self._app = App(self.store, self.stats, self.config, self.reset)
        self._server = DoubleServer(
            self._respond,
            host,
            port,
            name="grafana-double",
            server_header=SERVER_NAME,
            log_requests=log_requests,
        )

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> GrafanaDouble:
        self._server.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI)."""
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> GrafanaDouble:
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
            raise RuntimeError("the Grafana double is not running: call start() first")
        return port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- state for tests ---------------------------------------------------------------

    def dashboards(self) -> list[dict[str, Any]]:
        """Stored dashboards, as GET /_double/dashboards returns them (copies)."""
        return copy.deepcopy([stored_dashboard(dash) for dash in self.store.dashboards()])

    def dashboard(self, uid: str) -> dict[str, Any]:
        """The stored JSON model of a dashboard, a copy (KeyError if there is none)."""
        found = self.store.find_dashboard(uid)
        if found is None:
            raise KeyError(uid)
        return copy.deepcopy(found.data)

    def datasources(self) -> list[dict[str, Any]]:
        """Stored data sources as GET /api/datasources/uid/{uid} renders them, plus the
        secureJsonData that Grafana never returns (copies)."""
        return copy.deepcopy(
            [
                {**datasource_json(ds), "secureJsonData": ds.secure_json_data}
                for ds in self.store.datasources()
            ]
        )

    def datasource_secrets(self, uid: str) -> dict[str, str]:
        """A data source's secureJsonData, as GET /_double/datasources/{uid}/secure
        (KeyError if there is none)."""
        found = [ds for ds in self.store.datasources() if ds.uid == uid]
        if not found:
            raise KeyError(uid)
        return dict(found[0].secure_json_data)

    def reset(self) -> None:
        """Forget everything: back to the startup state."""
        self.stats.reset()
        self.store.clear()

    def _respond(self, raw: RawRequest) -> RawResponse:
        response = self._app.handle(Request(raw.method, raw.path, raw.query, raw.headers, raw.body))
        body, content_type = encode_body(response)
        headers = dict(response.headers)
        if content_type:
            headers["Content-Type"] = content_type
        return RawResponse(response.status, headers, body)
