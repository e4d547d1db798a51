"""The streamer's Flask application factory."""

from __future__ import annotations

from flask import Flask

from streamlab.specs import DatasetSpec

from . import api, openapi
from .config import StreamerConfig
from .kafka_sink import KafkaSink
from .manager import StreamManager


def create_app(
    config: StreamerConfig,
    specs: dict[str, DatasetSpec],
    sink: KafkaSink | None = None,
    start: bool = True,
) -> Flask:
    app = Flask(__name__)
    app.config["STREAMER"] = config
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.json.sort_keys = False
    sink = sink or KafkaSink(config.producer, config.kafka_retry_s)
    manager = StreamManager(specs, config, sink)
    app.extensions["streamlab.manager"] = manager
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    if start:
        manager.start()
    return app
