"""GET /health, GET|HEAD /ping, GET /ready: unauthenticated, as on the server."""

from __future__ import annotations

from .context import Context
from .ids import go_duration, rfc3339
from .routing import Request, Response, Router, json_response

# Reported as the build's commit, so that a health check shows what answered.
DOUBLE_COMMIT = "streamlab-influxdb-test-double"


class SystemApi:
    def __init__(self, context: Context) -> None:
        self._context = context

    def register(self, router: Router) -> None:
        router.add("GET", "/health", self.health)
        router.add("GET", "/ping", self.ping)
        router.add("HEAD", "/ping", self.ping)
        router.add("GET", "/ready", self.ready)

    def health(self, _: Request) -> Response:
        return json_response(
            200,
            {
                "name": "influxdb",
                "message": "ready for queries and writes",
                "status": "pass",
                "checks": [],
                "version": self._context.version,
                "commit": DOUBLE_COMMIT,
            },
        )

    def ping(self, _: Request) -> Response:
        return Response(204)

    def ready(self, _: Request) -> Response:
        started = self._context.started_ns
        up = self._context.store.now_ns() - started
        return json_response(
            200, {"status": "ready", "started": rfc3339(started), "up": go_duration(max(up, 0))}
        )
