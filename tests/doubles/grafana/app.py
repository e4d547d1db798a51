"""The application: routes, authentication, error bodies."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable

from .api_dashboards import DashboardsApi
from .api_datasources import DataSourcesApi
from .api_folders import FoldersApi
from .api_inspect import InspectApi
from .api_search import SearchApi
from .api_system import SystemApi
from .auth import authenticate
from .config import DoubleConfig
from .errors import ApiError
from .routing import Request, Response, Router
from .stats import Stats
from .store import Store

UNMATCHED_ROUTE = "<unmatched>"
JSON_TYPE = "application/json"


class App:
    def __init__(
        self, store: Store, stats: Stats, config: DoubleConfig, reset: Callable[[], None]
    ) -> None:
        self._config = config
        self._stats = stats
        self._router = Router()
        SystemApi(config).register(self._router)
        for api in (DataSourcesApi, FoldersApi, DashboardsApi, SearchApi):
            api(store).register(self._router)
        InspectApi(store, stats, reset).register(self._router)

    def handle(self, request: Request) -> Response:
        """The response to a request; never raises."""
        route_name = f"{request.method} {UNMATCHED_ROUTE}"
        try:
            route, request.params = self._router.resolve(request.method, request.path)
            route_name = route.name
            if not route.public:
                request.login = authenticate(self._config, request.headers)
            return route.handler(request)
        except ApiError as error:
            return Response(error.status, error.body(), dict(error.headers))
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return Response(500, {"message": "Internal Server Error"})
        finally:
            self._stats.count_request(route_name)


def encode_body(response: Response) -> tuple[bytes, str | None]:
    """The body bytes and their content type."""
    if response.body is None:
        return b"", None
    return json.dumps(response.body).encode("utf-8"), JSON_TYPE
