"""images/python/healthcheck, the streamer's, feeds' and metrics collector's compose healthcheck,
run as the container runs it; and every service of our images checks with its image's script."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "images" / "python" / "healthcheck"


def healthcheck(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    _Health.status = 200


def test_the_streamer_is_healthy_while_health_answers_200(server: ThreadingHTTPServer) -> None:
    port = str(server.server_address[1])
    assert healthcheck("streamer", STREAMER_PORT=port).returncode == 0
    _Health.status = 503
    result = healthcheck("streamer", STREAMER_PORT=port)
    assert result.returncode == 1
    assert "unhealthy" in result.stderr and "503" in result.stderr


def test_the_streamers_port_is_a_setting_with_no_default_here() -> None:
    result = healthcheck("streamer")
    assert result.returncode == 1
    assert "STREAMER_PORT is not set: compose passes it from settings.env" in result.stderr


def test_feeds_is_checked_on_8010_or_the_port_given(server: ThreadingHTTPServer) -> None:
    port = str(server.server_address[1])
    assert healthcheck("feeds", port).returncode == 0
    script = SCRIPT.read_text()
    assert 'FEEDS_LISTEN_PORT = "8010"' in script  # python -m feeds --port's default, compose's


def test_an_http_service_that_does_not_answer_is_unhealthy(server: ThreadingHTTPServer) -> None:
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    result = healthcheck("feeds", str(port))
    assert result.returncode == 1
    assert f"127.0.0.1:{port}/health" in result.stderr


def test_metrics_is_healthy_while_its_heartbeat_is_recent(tmp_path: Path) -> None:
    heartbeat = tmp_path / "metrics.heartbeat"
    env = {"METRICS_HEARTBEAT_FILE": str(heartbeat), "METRICS_INTERVAL_S": "5"}
    result = healthcheck("metrics", **env)
    assert result.returncode == 1 and "no heartbeat yet" in result.stderr
    heartbeat.touch()
    assert healthcheck("metrics", **env).returncode == 0
    # 3 * 5 + 10 = 25 s is the limit.
    stale = time.time() - 30
    os.utime(heartbeat, (stale, stale))
    result = healthcheck("metrics", **env)
    assert result.returncode == 1 and "limit 25 s" in result.stderr
    assert healthcheck("metrics", **{**env, "METRICS_INTERVAL_S": "10"}).returncode == 0
    result = healthcheck("metrics", METRICS_HEARTBEAT_FILE=str(heartbeat))
    assert result.returncode == 1 and "METRICS_INTERVAL_S is not set" in result.stderr


@pytest.mark.parametrize("args", [(), ("provisioner",), ("feeds", "8010", "extra")])
def test_a_wrong_call_is_unhealthy_with_the_usage(args: tuple[str, ...]) -> None:
    result = healthcheck(*args)
    assert result.returncode == 1
    assert "usage: healthcheck streamer|feeds|metrics [PORT]" in result.stderr


def test_our_images_services_check_with_their_images_script() -> None:
    compose = yaml.safe_load((ROOT / "compose" / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        image = service.get("image", "")
        if not image.startswith("streamlab/") or "healthcheck" not in service:
            continue
        test = service["healthcheck"]["test"]
        assert test[:2] == ["CMD", "healthcheck"] and len(test) == 3, f"{name}: {test}"
