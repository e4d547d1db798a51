"""The feed server (python -m feeds) over real HTTP: cycling order, /health and the 404."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feeds.server import FeedFiles, FeedServer


def _get(url: str) -> tuple[int, str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.load(error)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    # Written out of order: the server sorts by name.
    for number in (3, 1, 2):
        (tmp_path / "velib").mkdir(exist_ok=True)
        (tmp_path / "velib" / f"station_status-{number:03d}.json").write_text(
            json.dumps({"n": number})
        )
    (tmp_path / "users").mkdir()
    (tmp_path / "users" / "page-001.json").write_text('{"page": 1}')
    (tmp_path / "users" / "README.md").write_text("not served")
    (tmp_path / "empty").mkdir()
    return tmp_path


@pytest.fixture
def base_url(folder: Path) -> Iterator[str]:
    server = FeedServer(("127.0.0.1", 0), FeedFiles(folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_each_get_answers_the_next_file_in_sorted_order_and_cycles(base_url: str) -> None:
    bodies = [_get(f"{base_url}/velib")[2] for _ in range(5)]
    assert bodies == [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 1}, {"n": 2}]


def test_feeds_advance_independently_and_ignore_the_query(base_url: str) -> None:
    assert _get(f"{base_url}/velib")[2] == {"n": 1}
    assert _get(f"{base_url}/users?results=5")[2] == {"page": 1}
    assert _get(f"{base_url}/velib/")[2] == {"n": 2}


def test_responses_are_json(base_url: str) -> None:
    status, content_type, _ = _get(f"{base_url}/users")
    assert (status, content_type) == (200, "application/json")


def test_health_lists_the_feeds_with_json_files(base_url: str) -> None:
    assert _get(f"{base_url}/health") == (
        200,
        "application/json",
        {"status": "ok", "feeds": ["users", "velib"]},
    )


def test_an_unknown_feed_is_a_404_naming_the_known_ones(base_url: str) -> None:
    status, content_type, body = _get(f"{base_url}/nope")
    assert (status, content_type) == (404, "application/json")
    assert "nope" in body["error"] and "users, velib" in body["error"]
    assert body["feeds"] == ["users", "velib"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_python_m_feeds_serves_the_folder(folder: Path) -> None:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "feeds",
        "--dir",
        str(folder),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                assert _get(f"http://127.0.0.1:{port}/velib")[2] == {"n": 1}
                break
            except urllib.error.URLError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "python -m feeds did not answer within 15 s"
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_python_m_feeds_rejects_a_missing_folder(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "feeds", "--dir", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "--dir" in result.stderr
