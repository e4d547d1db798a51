"""GET|HEAD /api/health (no authentication, as on the server) and the buildInfo part of
GET /api/frontend/settings, which grafana-client's GrafanaApi.connect() and .version read."""

from __future__ import annotations

from .config import DoubleConfig
from .routing import Request, Response, Router, ok

# Reported as the build's commit, so that a health check shows what answered.
DOUBLE_COMMIT = "streamlab-grafana-test-double"


class SystemApi:
    def __init__(self, config: DoubleConfig) -> None:
        self._config = config

    def register(self, router: Router) -> None:
        router.add("GET", "/api/health", self.health, public=True)
        router.add("HEAD", "/api/health", self.health, public=True)
        router.add("GET", "/api/frontend/settings", self.frontend_settings)

    def health(self, _: Request) -> Response:
        version = self._config.reported_version
        return ok({"database": "ok", "version": version, "commit": DOUBLE_COMMIT})

    def frontend_settings(self, _: Request) -> Response:
        """Only buildInfo: the rest of the settings drive Grafana's own frontend."""
        version = self._config.reported_version
        build_info = {
            "version": version,
            "versionString": f"Grafana v{version} ({DOUBLE_COMMIT})",
            "commit": DOUBLE_COMMIT,
            "edition": "Open Source",
            "env": "production",
            "hideVersion": False,
            "hasUpdate": False,
            "latestVersion": "",
        }
        return ok({"buildInfo": build_info})
