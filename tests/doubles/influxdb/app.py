"""The application: routes, error bodies and the headers every response carries."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable

from . import errors
from .api_authorizations import AuthorizationsApi
from .api_buckets import BucketsApi
from .api_inspect import InspectApi
from .api_orgs import OrgsApi
from .api_setup import SetupApi
from .api_system import SystemApi
from .api_write import WriteApi
from .context import Context
from .errors import ApiError
from .routing import Request, Response, Router

UNMATCHED_ROUTE = "<unmatched>"
JSON_TYPE = "application/json; charset=utf-8"


class App:
    def __init__(self, context: Context, reset: Callable[[bool], None]) -> None:
        self._context = context
        self._router = Router()
        apis = (SystemApi, SetupApi, OrgsApi, BucketsApi, AuthorizationsApi, WriteApi)
        for api in apis:
            api(context).register(self._router)
        InspectApi(context, reset).register(self._router)

    def handle(self, request: Request) -> Response:
        """The response to a request; never raises."""
        route_name = f"{request.method} {UNMATCHED_ROUTE}"
        try:
            route, request.params = self._router.resolve(request.method, request.path)
            route_name = route.name
            response = route.handler(request)
        except ApiError as error:
            response = _error_response(error)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = _error_response(
                ApiError(errors.INTERNAL, "An internal error has occurred - check server logs")
            )
        finally:
            self._context.stats.count_request(route_name)
        response.headers.update(self._version_headers())
        return response

    def _version_headers(self) -> dict[str, str]:
        return {"X-Influxdb-Build": "OSS", "X-Influxdb-Version": self._context.version}


def _error_response(error: ApiError) -> Response:
    return Response(error.status, error.body(), {"X-Platform-Error-Code": error.code})


def encode_body(response: Response) -> tuple[bytes, str | None]:
    """The body bytes and their content type."""
    if response.body is None or response.status == 204:
        return b"", None
    if isinstance(response.body, bytes):
        return response.body, "text/plain; charset=utf-8"
    return json.dumps(response.body).encode("utf-8"), JSON_TYPE
