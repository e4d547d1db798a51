"""The streamer's Flask application factory."""

from __future__ import annotations

from flask import Flask

from streamlab.specs import DatasetSpec

from . import api, openapi, page
from .config import StreamerConfig
from .event_writer import EventWriter
from .kafka_sink import KafkaSink
from .manager import StreamManager


def create_app(
    config: StreamerConfig,
    specs: dict[str, DatasetSpec],
    sink: KafkaSink | None = None,
    start: bool = True,
    events: EventWriter | None = None,
) -> Flask:
    # No app-wide static route: the control page's blueprint serves its own files.
    app = Flask(__name__, static_folder=None)
    app.config["STREAMER"] = config
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.json.sort_keys = False
    sink = sink or KafkaSink(config.producer, config.kafka_retry_s)
    events = events or EventWriter(config.events)
    manager = StreamManager(specs, config, sink, events)
    app.extensions["streamlab.manager"] = manager
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(page.bp)
    if start:
        manager.start()
    return app
