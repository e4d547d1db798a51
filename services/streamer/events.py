"""The streamer's control events as points of the pipeline bucket: `streamer_event`.

One point per control action (a rate change, a pause, a resume, a restart), tagged with the
stream and the event; Grafana's Pipeline dashboard shows them as annotations. The names are
those of streamlab.pipeline_schema.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from influxdb_client import Point

from streamlab.influx import point

from .pacing import Rate

MEASUREMENT = "streamer_event"
EVENTS = ("rate_change", "pause", "resume", "restart")


@dataclass(frozen=True)
class StreamEvent:
    stream: str
    event: str  # one of EVENTS
    title: str
    text: str
    asked_rows_per_s: float | None = None  # set by rate changes to rows/s or interval
    time_ns: int = field(default_factory=time.time_ns)

    def tags(self) -> dict[str, str]:
        return {"stream": self.stream, "event": self.event}

    def fields(self) -> dict[str, str | float | None]:
        # Always a float: InfluxDB refuses an integer where the field was a float before.
        asked = None if self.asked_rows_per_s is None else float(self.asked_rows_per_s)
        return {"title": self.title, "text": self.text, "asked_rows_per_s": asked}

    def point(self) -> Point:
        built = point(MEASUREMENT, self.tags(), self.fields(), self.time_ns)
        assert built is not None  # title and text are always there
        return built


def number(value: float) -> str:
    """200.0 -> '200', 0.5 -> '0.5', 1/3 -> '0.3333333333'."""
    return f"{value:.10g}"


def describe(rate: Rate) -> str:
    if rate.mode == "rows_per_second":
        return f"{number(rate.value)} rows/s"
    if rate.mode == "interval_s":
        return f"1 row every {number(rate.value)} s"
    return f"original spacing, {number(rate.value)} times faster"


def rate_change(stream: str, old: Rate, new: Rate) -> StreamEvent:
    if old.mode == new.mode == "rows_per_second":
        title = f"{stream}: {number(old.value)} → {describe(new)}"
    else:
        title = f"{stream}: {describe(old)} → {describe(new)}"
    text = (
        f"The rate of stream {stream} was changed from {describe(old)} to {describe(new)} "
        f"(POST /streams/{stream}/rate)."
    )
    return StreamEvent(stream, "rate_change", title, text, new.rows_per_second)


def control(stream: str, action: str, rate: Rate) -> StreamEvent:
    """pause | resume | restart, with the rate the stream is asked at."""
    titles = {
        "pause": f"{stream}: paused",
        "resume": f"{stream}: resumed at {describe(rate)}",
        "restart": f"{stream}: restarted at {describe(rate)}",
    }
    texts = {
        "pause": f"Stream {stream} was paused; its rate stays {describe(rate)}.",
        "resume": f"Stream {stream} was resumed at {describe(rate)}.",
        "restart": f"Stream {stream} was restarted: its source replays from the beginning "
        f"at {describe(rate)}.",
    }
    return StreamEvent(stream, action, titles[action], texts[action])
