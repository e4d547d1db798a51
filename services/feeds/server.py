"""Serve each folder of saved JSON responses as one HTTP feed, cycling through its files.

GET /<name> answers the next file of <dir>/<name>/ (*.json, sorted by name; each GET
advances, and after the last comes the first again), so a polled HTTP source sees the feed
change from poll to poll. GET /health answers {"status": "ok", "feeds": [...]}.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


class FeedFiles:
    """The feeds found under a folder at start-up, and where each one has got to."""

    def __init__(self, root: Path) -> None:
        folders = sorted(path for path in root.iterdir() if path.is_dir())
        self._files = {f.name: sorted(f.glob("*.json")) for f in folders}
        self._files = {name: files for name, files in self._files.items() if files}
        self._turn = dict.fromkeys(self._files, 0)
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self._files)

    def next_file(self, name: str) -> Path | None:
        files = self._files.get(name)
        if files is None:
            return None
        with self._lock:
            turn = self._turn[name]
            self._turn[name] = turn + 1
        return files[turn % len(files)]


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], feeds: FeedFiles) -> None:
        super().__init__(address, FeedHandler)
        self.feeds = feeds


class FeedHandler(BaseHTTPRequestHandler):
    server: FeedServer

    def do_GET(self) -> None:
        name = urlsplit(self.path).path.strip("/")
        feeds = self.server.feeds
        if name == "health":
            self._send(HTTPStatus.OK, _json({"status": "ok", "feeds": feeds.names}))
            return
        path = feeds.next_file(name)
        if path is None:
            error = f"no feed named {name!r}; known feeds: {', '.join(feeds.names) or 'none'}"
            self._send(HTTPStatus.NOT_FOUND, _json({"error": error, "feeds": feeds.names}))
            return
        self._send(HTTPStatus.OK, path.read_bytes())

    def _send(self, status: HTTPStatus, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def _json(document: Any) -> bytes:
    return json.dumps(document).encode()
