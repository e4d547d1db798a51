"""All streams of the streamer, one per dataset spec, sharing one Kafka producer and one
event writer; and the Kafka view's clients, closed with them."""

from __future__ import annotations

from streamlab.specs import DatasetSpec

from .config import StreamerConfig
from .event_writer import EventWriter
from .kafka_sink import KafkaSink
from .kafka_view import KafkaView
from .stream import Stream


class UnknownStream(KeyError):
    pass


class StreamManager:
    def __init__(
        self,
        specs: dict[str, DatasetSpec],
        config: StreamerConfig,
        sink: KafkaSink,
        events: EventWriter,
        view: KafkaView,
    ) -> None:
        self.config, self.sink, self.events, self.view = config, sink, events, view
        self.streams = {name: Stream(spec, config, sink) for name, spec in sorted(specs.items())}

    def get(self, name: str) -> Stream:
        try:
            return self.streams[name]
        except KeyError:
            raise UnknownStream(name) from None

    def start(self) -> None:
        for name, stream in self.streams.items():
            stream.start(running=self.config.autostarts(name, stream.spec.autostart))

    def stop(self) -> None:
        for stream in self.streams.values():
            stream.stop()
        self.sink.close()
        self.events.close()
        self.view.close()
