"""Limits on every request body, checked before anything parses it.

A body of more than STREAMER_MAX_BODY_BYTES is refused (413). werkzeug refuses one whose
Content-Length says so, but cuts a chunked one at Flask's MAX_CONTENT_LENGTH without a word:
so that limit is one byte more, and a body that reaches it is the one refused here. A JSON
body nested deeper than STREAMER_MAX_JSON_DEPTH is refused (400) after a scan that counts
brackets outside strings: no parser, so no recursion, ever sees it.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from .control import ApiError

# A JSON string (escapes included) and the brackets that open or close a level.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(data: bytes) -> int:
    """How deeply the JSON text nests arrays and objects (a flat object is 1)."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub(b'""', data)):
        if bracket in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def install(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = app.config["STREAMER"].api.max_body_bytes + 1
    app.before_request(check_limits)


def check_limits() -> None:
    """Flask before_request: reads the body once, checks its size and depth."""
    data = request.get_data(cache=True)
    limits = current_app.config["STREAMER"].api
    if len(data) > limits.max_body_bytes:
        raise RequestEntityTooLarge()
    limit = limits.max_json_depth
    if data and request.is_json and json_depth(data) > limit:
        raise ApiError(
            400,
            "too_deep",
            f"the JSON body nests deeper than {limit} levels (STREAMER_MAX_JSON_DEPTH)",
        )
