"""The control API blueprint: /health, /streams, and the per-stream controls."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from . import events
from .control import ApiError, parse_rate
from .kafka_sink import KafkaUnavailable
from .manager import StreamManager, UnknownStream
from .schemas import Health, RequestModels, StreamList, StreamStatus, dump

bp = Blueprint("control", __name__)
ACTIONS = ("pause", "resume", "restart")


def manager() -> StreamManager:
    return current_app.extensions["streamlab.manager"]


def models() -> RequestModels:
    return current_app.extensions["streamlab.models"]


@bp.get("/health")
def health() -> Any:
    streams = manager().streams.values()
    kafka = "connected"
    try:
        manager().sink.producer()
    except KafkaUnavailable as error:
        kafka = f"unavailable: {error}"
    states = {s.spec.name: s.status()["state"] for s in streams}
    return jsonify(dump(Health, {"status": "ok", "kafka": kafka, "streams": states}))


@bp.get("/streams")
def list_streams() -> Any:
    statuses = [s.status() for s in manager().streams.values()]
    return jsonify(dump(StreamList, {"streams": statuses}))


@bp.get("/streams/<name>")
def get_stream(name: str) -> Any:
    return jsonify(dump(StreamStatus, manager().get(name).status()))


@bp.post("/streams/<name>/rate")
def set_rate(name: str) -> Any:
    stream = manager().get(name)
    rate, timestamps = parse_rate(_json_body(), models().rate, stream.spec.timestamp is not None)
    previous = stream.set_rate(rate, timestamps)
    manager().events.record(events.rate_change(name, previous, rate))
    return jsonify(dump(StreamStatus, stream.status()))


@bp.post("/streams/<name>/<action>")
def control(name: str, action: str) -> Any:
    stream = manager().get(name)
    if action not in ACTIONS:
        raise ApiError(
            404, "unknown_action", f"unknown action '{action}': use pause, resume, restart or rate"
        )
    getattr(stream, action)()
    manager().events.record(events.control(name, action, stream.rate))
    return jsonify(dump(StreamStatus, stream.status()))


def _json_body() -> bytes:
    """The body's bytes, once its media type says JSON (body.check_limits has read it)."""
    if not request.is_json:
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        )
    return request.get_data(cache=True)


def error_response(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


@bp.app_errorhandler(ApiError)
def api_error(error: ApiError) -> Any:
    return error_response(error.status, error.as_json())


@bp.app_errorhandler(UnknownStream)
def unknown_stream(error: UnknownStream) -> Any:
    names = ", ".join(manager().streams)
    body = ApiError(404, "unknown_stream", f"no stream named {error.args[0]!r}; streams: {names}")
    return error_response(404, body.as_json())


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Any:
    """werkzeug's errors as JSON, keeping their headers (a 405's Allow above all)."""
    code = (error.name or "error").lower().replace(" ", "_")
    status = error.code or 500
    body = {"error": code, "message": _explain(error), "status": status}
    response = error_response(status, body)
    for header, value in error.get_headers():
        if header.lower() != "content-type":
            response.headers[header] = value
    return response


def _explain(error: HTTPException) -> str:
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        usable = [m for m in error.valid_methods if m not in ("HEAD", "OPTIONS")]
        return f"{request.method} is not allowed here: use {' or '.join(usable)}"
    if isinstance(error, RequestEntityTooLarge):
        most = current_app.config["STREAMER"].api.max_body_bytes
        return f"the body is larger than {most} bytes (STREAMER_MAX_BODY_BYTES)"
    return error.description or ""
