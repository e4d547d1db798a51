"""Requests, responses and the route table, independent of the HTTP server underneath."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from . import errors
from .errors import ApiError

_PARAM = re.compile(r"\{(\w+)\}")


@dataclass
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    # Login of the authenticated caller (set by the app before the handler runs).
    login: str = ""

    def arg(self, name: str, default: str = "") -> str:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """Every non-empty value of a repeatable query parameter (?tag=a&tag=b)."""
        return [value for value in self.query.get(name, []) if value]

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; anything else is Grafana's 400 "bad request data"."""
        try:
            data = json.loads(self.body or b"null")
        except ValueError:
            raise errors.bad_request() from None
        if not isinstance(data, dict):
            raise errors.bad_request()
        return data


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def ok(body: Any) -> Response:
    return Response(200, body)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    # Public routes answer without authentication (GET /api/health, the /_double/ API).
    public: bool

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, public: bool = False) -> None:
        pattern = re.compile("^" + _PARAM.sub(r"(?P<\1>[^/]+)", template) + "/?$")
        self._routes.append(Route(method, template, pattern, handler, public))

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for a request and its path parameters (URL-decoded), or 404/405."""
        matches = [(r, m) for r in self._routes if (m := r.pattern.match(path))]
        for route, match in matches:
            if route.method == method:
                return route, {k: unquote(v) for k, v in match.groupdict().items()}
        if matches:
            allowed = ", ".join(sorted({route.method for route, _ in matches}))
            raise ApiError(405, "Method Not Allowed", headers={"Allow": allowed})
        missing = f"the StreamLab Grafana test double does not implement {method} {path}"
        raise ApiError(404, "Not found", extra={"double": missing})
