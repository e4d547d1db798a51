"""The OpenAPI 3.1 document of the control API, served at /openapi.json.

Its schemas are generated from the pydantic models that validate requests and write
responses (schemas.py), so the document and the checks cannot disagree. It is made once per
app: the bounds come from the configuration, the path parameters' values from the specs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .config import StreamerConfig
from .schemas import (
    DeadLetters,
    Error,
    Health,
    KafkaTopics,
    RequestModels,
    StreamList,
    StreamStatus,
    TopicRecords,
)

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
RESPONSES = (Error, Health, StreamList, StreamStatus, KafkaTopics, TopicRecords, DeadLetters)
WHY = {
    400: "the request was refused: the message says what to send instead",
    404: "no such stream, action or topic",
    409: "the stream cannot do that (a speedup on a dataset without timestamps)",
    413: "the body is larger than STREAMER_MAX_BODY_BYTES",
    415: "the body is not sent as application/json",
    503: "the broker did not answer",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _operation(
    summary: str, model: type[BaseModel], errors: Iterable[int] = (), **more: Any
) -> dict[str, Any]:
    responses = {"200": _json(model, summary)}
    responses.update({str(code): _json(Error, WHY[code]) for code in errors})
    return {"summary": summary, **more, "responses": responses}


def _path_parameter(name: str, values: Iterable[str], description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if values := sorted(values):
        schema["enum"] = values
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": prop.pop("description", ""),
            "schema": prop,
        }
        for name, prop in schema["properties"].items()
    ]


def build(
    config: StreamerConfig, models: RequestModels, streams: Iterable[str], topics: Iterable[str]
) -> dict[str, Any]:
    limits = config.api
    _, schemas = models_json_schema(
        [(models.rate, "validation"), *((m, "serialization") for m in RESPONSES)],
        ref_template=REF,
    )
    name = _path_parameter("name", streams, "a stream: one per dataset spec")
    topic = _path_parameter("topic", topics, "a topic of the datasets (GET /kafka/topics)")
    limit = _query_parameters(models.records)
    rate_body = {
        "required": True,
        "description": "Exactly one of rows_per_second, interval_s or speedup.",
        "content": {"application/json": {"schema": _ref(models.rate)}},
    }

    def action(summary: str) -> dict[str, Any]:
        return {"post": _operation(summary, StreamStatus, (400, 404, 413), parameters=[name])}

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "StreamLab streamer control API",
            "version": "1",
            "description": f"JSON over HTTP. A request body may have at most "
            f"{limits.max_body_bytes} bytes (STREAMER_MAX_BODY_BYTES; more: 413) and a JSON "
            f"body may nest at most {limits.max_json_depth} levels (STREAMER_MAX_JSON_DEPTH; "
            "deeper: 400). Every error is a JSON Error; a 405 lists the allowed methods in "
            "its Allow header.",
        },
        "paths": {
            "/": {
                "get": {
                    "summary": "the control page: the streams, their rates, a live chart, the "
                    "controls and a read-only view of the datasets' Kafka topics",
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
            "/health": {"get": _operation("liveness, Kafka connectivity, stream states", Health)},
            "/streams": {"get": _operation("every stream's status", StreamList)},
            "/streams/{name}": {
                "get": _operation("one stream's status", StreamStatus, (404,), parameters=[name])
            },
            "/streams/{name}/rate": {
                "post": _operation(
                    "change the rate live",
                    StreamStatus,
                    (400, 404, 409, 413, 415),
                    parameters=[name],
                    requestBody=rate_body,
                )
            },
            "/streams/{name}/pause": action("stop sending; the position is kept"),
            "/streams/{name}/resume": action("send again from where it paused"),
            "/streams/{name}/restart": action("replay the source from its beginning"),
            "/kafka/topics": {
                "get": _operation(
                    "the datasets' topics with partitions and offsets, each Spark query's lag",
                    KafkaTopics,
                    (503,),
                )
            },
            "/kafka/topics/{topic}/records": {
                "get": _operation(
                    "the newest records of one of the datasets' topics, newest first",
                    TopicRecords,
                    (400, 404, 503),
                    parameters=[topic, *limit],
                )
            },
            "/kafka/deadletters": {
                "get": _operation(
                    "the newest dead letters of every dataset, with their reasons",
                    DeadLetters,
                    (400, 503),
                    parameters=limit,
                )
            },
            "/openapi.json": {
                "get": {
                    "summary": "this document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": schemas["$defs"]},
    }


@bp.get("/openapi.json")
def openapi() -> object:
    return jsonify(current_app.extensions["streamlab.openapi"])
