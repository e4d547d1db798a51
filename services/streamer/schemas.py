"""The control API's bodies as pydantic models: requests are validated by them, responses
are written through them, and the OpenAPI document's schemas are generated from them.

Rate modes and timestamp modes are those of streamlab.specs, stream states those of
streamer.stream; nothing here lists them again. The request models take their bounds from
the streamer's configuration, so they are made per app (RequestModels.build).
"""

# No `from __future__ import annotations`: the request models are made inside functions, and
# pydantic reads their annotations (the configured bounds) as they are defined.
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, RootModel, Tag

from streamlab.specs import RATE_MODES, SOURCE_TYPES, TIMESTAMP_MODES

from .config import StreamerConfig
from .pacing import Rate
from .stream import StreamState

RateMode = Literal[RATE_MODES]
TimestampMode = Literal[TIMESTAMP_MODES]
# 'scaled' stamps rows at their original spacing sped up, so it comes with a speedup only.
UnscaledTimestampMode = Literal[tuple(mode for mode in TIMESTAMP_MODES if mode != "scaled")]
SourceType = Literal[SOURCE_TYPES]

TIMESTAMPS_HELP = (
    "how rows are stamped from now on: send_time (when sent), original (the row's own time) "
    "or, with speedup only, scaled (original spacing sped up); absent or null: unchanged"
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _rate_mode(body: Any) -> str | None:
    """The one rate mode the body names; None when it names none or several."""
    if not isinstance(body, dict):
        return None
    named = [mode for mode in RATE_MODES if mode in body]
    return named[0] if len(named) == 1 else None


def _positive(limit: float, description: str, least: float | None = None) -> Any:
    bound = {"gt": 0} if least is None else {"ge": least}
    return Annotated[
        float,
        Field(le=limit, strict=True, allow_inf_nan=False, description=description, **bound),
    ]


def rate_request(config: StreamerConfig) -> type[RootModel]:
    """POST /streams/{name}/rate: exactly one rate mode, within the configured bounds."""

    class RowsPerSecond(Strict):
        mode: ClassVar[str] = "rows_per_second"
        rows_per_second: _positive(config.max_rate, "rows per second (STREAMER_MAX_RATE at most)")
        timestamps: UnscaledTimestampMode | None = Field(None, description=TIMESTAMPS_HELP)

    class IntervalSeconds(Strict):
        mode: ClassVar[str] = "interval_s"
        # One row per interval: no shorter than one row at the highest rate.
        interval_s: _positive(
            config.max_interval_s,
            "seconds between rows (STREAMER_MAX_INTERVAL_S at most)",
            least=1 / config.max_rate,
        )
        timestamps: UnscaledTimestampMode | None = Field(None, description=TIMESTAMPS_HELP)

    class Speedup(Strict):
        mode: ClassVar[str] = "speedup"
        speedup: _positive(
            config.max_speedup,
            "replay at the original spacing of the rows, this many times faster "
            "(the dataset needs a timestamp column)",
        )
        timestamps: TimestampMode | None = Field(None, description=TIMESTAMPS_HELP)

    modes = ", ".join(RATE_MODES)

    class RateRequest(
        RootModel[
            Annotated[
                Annotated[RowsPerSecond, Tag(RowsPerSecond.mode)]
                | Annotated[IntervalSeconds, Tag(IntervalSeconds.mode)]
                | Annotated[Speedup, Tag(Speedup.mode)],
                Discriminator(
                    _rate_mode,
                    custom_error_type="rate_mode",
                    custom_error_message=f"give exactly one of {modes}",
                ),
            ]
        ]
    ):
        """Exactly one of rows_per_second, interval_s or speedup, and optionally timestamps."""

        def rate(self) -> Rate:
            return Rate(self.root.mode, float(getattr(self.root, self.root.mode)))

        @property
        def timestamps(self) -> str | None:
            return self.root.timestamps

    return RateRequest


def records_query(config: StreamerConfig) -> type[BaseModel]:
    most = config.api.max_records

    class RecordsQuery(BaseModel):
        limit: int = Field(
            most,
            ge=1,
            le=most,
            description="how many records, newest first (STREAMER_MAX_RECORDS at most)",
        )

    return RecordsQuery


@dataclass(frozen=True)
class RequestModels:
    rate: type[RootModel]
    records: type[BaseModel]

    @classmethod
    def build(cls, config: StreamerConfig) -> "RequestModels":
        return cls(rate=rate_request(config), records=records_query(config))


# --- responses ---


class Error(BaseModel):
    error: str = Field(description="a short code, such as invalid_rate or unknown_stream")
    message: str = Field(description="what was wrong and what to send instead")
    status: int


class RateStatus(BaseModel):
    mode: RateMode
    value: float
    rows_per_second: float | None = Field(
        description="null in speedup mode: the data sets the pace"
    )


class StreamStatus(BaseModel):
    name: str
    description: str
    source: SourceType
    topic: str
    deadletter_topic: str
    state: StreamState
    error: str | None
    rate: RateStatus
    timestamps: TimestampMode
    achieved_rows_per_second: float
    rows_sent: int
    rows_acked: int
    rows_unacked: int
    rows_deadlettered: int
    rows_filtered: int
    rows_resent: int
    restarts: int
    loops: int
    rate_changed_at: float = Field(description="Unix time of the last rate change")
    source_state: dict[str, Any] | None = Field(description="an http source's polling state")


class StreamList(BaseModel):
    streams: list[StreamStatus]


class Health(BaseModel):
    status: Literal["ok"]
    kafka: str = Field(description="connected, or unavailable: and the reason")
    streams: dict[str, StreamState]


class PartitionOffsets(BaseModel):
    partition: int
    start_offset: int = Field(description="the oldest offset still kept")
    end_offset: int = Field(description="the offset the next record will get")


class TopicOffsets(BaseModel):
    topic: str
    dataset: str
    kind: str = Field(description="raw, deadletter, alerts, enriched or aggregate")
    exists: bool = Field(description="false until the provisioner has created it")
    partitions: list[PartitionOffsets]
    end_offset: int = Field(description="the sum of its partitions' end offsets")


class QueryLag(BaseModel):
    dataset: str
    query: str = Field(description="the Spark query, <dataset>.<query>")
    group: str = Field(description="the consumer group holding its processed offsets")
    topic: str
    committed_offset: int | None = Field(description="null until the query commits")
    end_offset: int
    lag: int | None = Field(description="records not yet processed; null until it commits")


class KafkaTopics(BaseModel):
    topics: list[TopicOffsets]
    queries: list[QueryLag]


class KafkaRecord(BaseModel):
    partition: int
    offset: int
    timestamp_ms: int
    key: str | None
    value: str | None = Field(description="decoded as UTF-8, cut to STREAMER_RECORD_VALUE_BYTES")
    value_bytes: int = Field(description="the whole value's size")
    truncated: bool


class TopicRecords(BaseModel):
    topic: str
    dataset: str
    kind: str
    records: list[KafkaRecord]


class DeadLetter(BaseModel):
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    dataset: str | None
    stage: str | None = Field(description="streamer or spark: where the record was refused")
    reason: str | None
    at: str | None = Field(description="when it was refused (ISO 8601)")
    record: str | None = Field(
        description="the refused record as JSON text, cut to STREAMER_RECORD_VALUE_BYTES"
    )


class DeadLetters(BaseModel):
    deadletters: list[DeadLetter]


def dump(model: type[BaseModel], value: Any) -> Any:
    """A response body written through its model: what the OpenAPI document promises."""
    return model.model_validate(value).model_dump(mode="json")
