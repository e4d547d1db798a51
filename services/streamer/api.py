"""The control API blueprint: /health, /streams, and the per-stream controls."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from . import events
from .control import ApiError, parse_rate
from .kafka_sink import KafkaUnavailable
from .manager import StreamManager, UnknownStream

bp = Blueprint("control", __name__)


def manager() -> StreamManager:
    return current_app.extensions["streamlab.manager"]


@bp.get("/health")
def health() -> Any:
    streams = manager().streams.values()
    kafka = "connected"
    try:
        manager().sink.producer()
    except KafkaUnavailable as error:
        kafka = f"unavailable: {error}"
    states = {s.spec.name: s.status()["state"] for s in streams}
    return jsonify({"status": "ok", "kafka": kafka, "streams": states})


@bp.get("/streams")
def list_streams() -> Any:
    return jsonify({"streams": [s.status() for s in manager().streams.values()]})


@bp.get("/streams/<name>")
def get_stream(name: str) -> Any:
    return jsonify(manager().get(name).status())


@bp.post("/streams/<name>/rate")
def set_rate(name: str) -> Any:
    stream = manager().get(name)
    rate, timestamps = parse_rate(
        _json_body(), current_app.config["STREAMER"], stream.spec.timestamp is not None
    )
    previous = stream.set_rate(rate, timestamps)
    manager().events.record(events.rate_change(name, previous, rate))
    return jsonify(stream.status())


@bp.post("/streams/<name>/<action>")
def control(name: str, action: str) -> Any:
    stream = manager().get(name)
    if action not in ("pause", "resume", "restart"):
        raise ApiError(
            404, "unknown_action", f"unknown action '{action}': use pause, resume, restart or rate"
        )
    getattr(stream, action)()
    manager().events.record(events.control(name, action, stream.rate))
    return jsonify(stream.status())


def _json_body() -> Any:
    if request.mimetype != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        )
    try:
        return json.loads(request.get_data(as_text=True) or "")
    except ValueError as error:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {error}") from None


@bp.app_errorhandler(ApiError)
def api_error(error: ApiError) -> Any:
    return jsonify(error.as_json()), error.status


@bp.app_errorhandler(UnknownStream)
def unknown_stream(error: UnknownStream) -> Any:
    names = ", ".join(manager().streams)
    body = ApiError(404, "unknown_stream", f"no stream named {error.args[0]!r}; streams: {names}")
    return jsonify(body.as_json()), 404


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Any:
    code = (error.name or "error").lower().replace(" ", "_")
    body = {"error": code, "message": error.description, "status": error.code}
    return jsonify(body), error.code or 500
