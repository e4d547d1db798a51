"""One batched write per cycle to the pipeline bucket, through streamlab.influx."""

from __future__ import annotations

from influxdb_client import Point
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from streamlab.influx import InfluxTarget, InfluxWriter

from .points import MetricsError, os_reason

ERROR_BODY_CHARS = 300


class InfluxWriteError(MetricsError):
    """InfluxDB refused or did not take a batch; the message says which and why."""


class PipelineWriter:
    def __init__(self, target: InfluxTarget) -> None:
        self.target = target
        self._writer = InfluxWriter(target)

    def write(self, points: list[Point]) -> None:
        if not points:
            return
        try:
            self._writer.write_points(points)
        except ApiException as error:
            body = (error.body or "").strip()[:ERROR_BODY_CHARS]
            raise InfluxWriteError(
                f"InfluxDB at {self.target.url} answered HTTP {error.status} to a write to "
                f"bucket {self.target.bucket!r}: {body}"
            ) from None
        except (HTTPError, OSError) as error:
            reason = os_reason(str(error)) or f"{type(error).__name__}: {error}"
            raise InfluxWriteError(
                f"cannot write to InfluxDB at {self.target.url}: {reason}"
            ) from None

    def close(self) -> None:
        self._writer.close()
