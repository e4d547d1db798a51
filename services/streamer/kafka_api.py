"""The Kafka view's read-only endpoints: /kafka/topics, /kafka/topics/{topic}/records and
/kafka/deadletters. Only the datasets' topics can be read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from pydantic import ValidationError

from .control import ApiError, shown
from .kafka_view import KafkaView, KafkaViewError
from .schemas import DeadLetters, KafkaTopics, RequestModels, TopicRecords, dump

bp = Blueprint("kafka", __name__, url_prefix="/kafka")


def view() -> KafkaView:
    return current_app.extensions["streamlab.manager"].view


@bp.get("/topics")
def topics() -> Any:
    return jsonify(dump(KafkaTopics, view().offsets()))


@bp.get("/topics/<topic>/records")
def records(topic: str) -> Any:
    known = view().topics.get(topic)
    if known is None:
        raise ApiError(
            404,
            "unknown_topic",
            f"{topic!r} is not a topic of the datasets: GET /kafka/topics lists them",
        )
    found = view().records(topic, _limit())
    body = {"topic": topic, "dataset": known.dataset, "kind": known.kind, "records": found}
    return jsonify(dump(TopicRecords, body))


@bp.get("/deadletters")
def deadletters() -> Any:
    return jsonify(dump(DeadLetters, {"deadletters": view().deadletters(_limit())}))


def _limit() -> int:
    models: RequestModels = current_app.extensions["streamlab.models"]
    try:
        return models.records.model_validate(request.args.to_dict()).limit
    except ValidationError as error:
        first = error.errors()[0]
        said = first["msg"].replace("Input should be", "must be", 1)
        got = shown(first["input"])
        raise ApiError(400, "invalid_limit", f"'limit' {said}, got {got}") from None


@bp.errorhandler(KafkaViewError)
def kafka_unavailable(error: KafkaViewError) -> Any:
    body = ApiError(503, "kafka_unavailable", str(error)).as_json()
    return jsonify(body), 503
