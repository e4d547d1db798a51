"""Sources that read one JSON document over HTTP: fetch, time, and hand it to a parser."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from ..points import Point, Poll, SourceError, os_reason

Parser = Callable[[Any], list[Point]]
# What a parser raises on JSON of another shape than the service documents.
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)
ERROR_BODY_CHARS = 200


class HttpJsonSource:
    """GET url, parse the JSON into points; any failure is a SourceError naming the url."""

    def __init__(self, name: str, url: str, parse: Parser, timeout_s: float) -> None:
        self.name = name
        self.url = url
        self.where = url
        self.parse = parse
        self.timeout_s = timeout_s
        self._session = requests.Session()
        # Stack-internal addresses: a proxy from the environment would only get in the way.
        self._session.trust_env = False

    def poll(self) -> Poll:
        data, response_ms = self._fetch()
        try:
            points = self.parse(data)
        except SHAPE_ERRORS as error:
            raise SourceError(
                f"{self.url} answered JSON of an unexpected shape "
                f"({type(error).__name__}: {error})",
                response_ms,
            ) from None
        return Poll(points, response_ms)

    def close(self) -> None:
        self._session.close()

    def _fetch(self) -> tuple[Any, float]:
        start = time.monotonic()
        try:
            response = self._session.get(self.url, timeout=self.timeout_s)
        except requests.RequestException as error:
            raise SourceError(f"GET {self.url} failed: {_reason(error)}") from None
        response_ms = (time.monotonic() - start) * 1000
        if response.status_code != 200:
            body = response.text[:ERROR_BODY_CHARS].strip()
            raise SourceError(
                f"GET {self.url} answered HTTP {response.status_code}: {body}", response_ms
            )
        try:
            return response.json(), response_ms
        except ValueError:
            body = response.text[:ERROR_BODY_CHARS].strip()
            raise SourceError(f"GET {self.url} answered no JSON: {body!r}", response_ms) from None


def _reason(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return "no answer in time"
    if isinstance(error, requests.ConnectionError):
        return f"cannot connect ({os_reason(str(error)) or 'is the service up?'})"
    return f"{type(error).__name__}: {error}"
