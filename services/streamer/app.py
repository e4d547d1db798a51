"""The streamer's Flask application factory."""

from __future__ import annotations

from flask import Flask

from streamlab.specs import DatasetSpec

from . import api, body, kafka_api, openapi, page
from .config import StreamerConfig
from .event_writer import EventWriter
from .kafka_sink import KafkaSink
from .kafka_view import KafkaView
from .manager import StreamManager
from .schemas import RequestModels


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
    app.json.sort_keys = False
    sink = sink or KafkaSink(config.producer, config.kafka_retry_s)
    events = events or EventWriter(config.events)
    view = KafkaView(config.producer.bootstrap_servers, specs, config.api)
    manager = StreamManager(specs, config, sink, events, view)
    models = RequestModels.build(config)
    app.extensions["streamlab.manager"] = manager
    app.extensions["streamlab.models"] = models
    app.extensions["streamlab.openapi"] = openapi.build(config, models, specs, view.topics)
    body.install(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(kafka_api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(page.bp)
    if start:
        manager.start()
    return app
