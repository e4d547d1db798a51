"""A local GBFS station_status.json feed for the http dataset's tests (served on 127.0.0.1)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def station_status(stations: list[dict[str, Any]], last_updated: int) -> dict[str, Any]:
    """A document in the shape of GBFS v2.3 station_status.json."""
    return {
        "last_updated": last_updated,
        "ttl": 10,
        "version": "2.3",
        "data": {"stations": stations},
    }


class GbfsFeed:
    """Serves whatever document `self.document` holds; `self.status` forces an HTTP error,
    `self.headers` adds response headers (Retry-After); `self.seen_headers` holds the last
    request's headers."""

    def __init__(self, document: Any) -> None:
        self.document, self.status, self.requests = document, 200, 0
        self.headers: dict[str, str] = {}
        self.seen_headers: dict[str, str] = {}
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                feed.requests += 1
                feed.seen_headers = dict(self.headers.items())
                body = json.dumps(feed.document).encode()
                self.send_response(feed.status)
                for name, value in feed.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/gbfs/en/station_status.json"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> GbfsFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
