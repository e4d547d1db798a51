"""The OpenAPI 3.1 document of the control API, served at /openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

bp = Blueprint("openapi", __name__)

_ERROR = {"$ref": "#/components/schemas/Error"}
_STATUS = {"$ref": "#/components/schemas/StreamStatus"}
_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _json(_ERROR, "the request was not applied") for code in codes}


def _action(summary: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": [_NAME],
            "responses": {"200": _json(_STATUS, "the stream after the action"), **_errors(404)},
        }
    }


RATE_BODY = {
    "type": "object",
    "description": "Exactly one of rows_per_second, interval_s or speedup.",
    "properties": {
        "rows_per_second": {"type": "number", "exclusiveMinimum": 0},
        "interval_s": {"type": "number", "exclusiveMinimum": 0},
        "speedup": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "replay at the original spacing of the rows, this many times faster",
        },
        "timestamps": {"type": "string", "enum": ["send_time", "original", "scaled"]},
    },
    "additionalProperties": False,
}

STREAM_STATUS = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "state": {
            "type": "string",
            "enum": [
                "created",
                "running",
                "paused",
                "finished",
                "waiting_for_kafka",
                "source_error",
                "error",
                "stopped",
            ],
        },
        "error": {"type": ["string", "null"]},
        "rate": {"type": "object"},
        "achieved_rows_per_second": {"type": "number"},
        "rows_sent": {"type": "integer"},
        "rows_acked": {"type": "integer"},
        "rows_deadlettered": {"type": "integer"},
        "rows_filtered": {"type": "integer"},
        "source_state": {"type": ["object", "null"]},
    },
    "required": ["name", "state", "rate", "rows_sent"],
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "StreamLab streamer control API", "version": "1"},
    "paths": {
        "/": {
            "get": {
                "summary": "the control page: every stream's rate, a live chart, the controls",
                "description": "Plain HTML and JavaScript (files under /static/) that use "
                "only the endpoints below.",
                "responses": {
                    "200": {
                        "description": "the page",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/health": {
            "get": {
                "summary": "liveness and Kafka connectivity",
                "responses": {"200": _json({"type": "object"}, "health")},
            }
        },
        "/streams": {
            "get": {
                "summary": "every stream's status",
                "responses": {"200": _json({"type": "object"}, "all streams")},
            }
        },
        "/streams/{name}": {
            "get": {
                "summary": "one stream's status",
                "parameters": [_NAME],
                "responses": {"200": _json(_STATUS, "the stream"), **_errors(404)},
            }
        },
        "/streams/{name}/rate": {
            "post": {
                "summary": "change the rate live",
                "parameters": [_NAME],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": RATE_BODY}},
                },
                "responses": {
                    "200": _json(_STATUS, "the stream at its new rate"),
                    **_errors(400, 404, 413, 415),
                },
            }
        },
        "/streams/{name}/pause": _action("stop sending; the position is kept"),
        "/streams/{name}/resume": _action("send again from where it paused"),
        "/streams/{name}/restart": _action("replay the source from its beginning"),
        "/openapi.json": {
            "get": {
                "summary": "this document",
                "responses": {"200": _json({"type": "object"}, "OpenAPI")},
            }
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {
                    "error": {"type": "string"},
                    "message": {"type": "string"},
                    "status": {"type": "integer"},
                },
                "required": ["error", "message"],
            },
            "StreamStatus": STREAM_STATUS,
        }
    },
}


@bp.get("/openapi.json")
def openapi() -> object:
    return jsonify(DOCUMENT)
