"""Requests, responses and the route table, independent of the HTTP server underneath."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .errors import ApiError

_PARAM = re.compile(r"\{(\w+)\}")


@dataclass
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as error:
            raise errors.invalid(f"failed to decode request body: {error}") from None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise errors.invalid("failed to decode request body: expected a JSON object")
        return data


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, body: Any) -> Response:
    return Response(status, body)


def no_content() -> Response:
    return Response(204)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        pattern = re.compile("^" + _PARAM.sub(r"(?P<\1>[^/]+)", template) + "/?$")
        self._routes.append(Route(method, template, pattern, handler))

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for a request, or 404/405 (501 for API paths the double lacks)."""
        matches = [(r, m) for r in self._routes if (m := r.pattern.match(path))]
        for route, match in matches:
            if route.method == method:
                return route, match.groupdict()
        if matches:
            allowed = ", ".join(sorted({route.method for route, _ in matches}))
            raise ApiError(errors.METHOD_NOT_ALLOWED, f"allow: {allowed}")
        if path.startswith("/api/"):
            raise ApiError(
                errors.NOT_IMPLEMENTED,
                f"the StreamLab InfluxDB test double does not implement {method} {path}",
            )
        raise errors.not_found("path not found")
