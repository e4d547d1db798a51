"""Write datasets/data/idfm_stops.jsonl.gz: saved SIRI Lite StopMonitoring responses.

Why: seed 000 replays Île-de-France Mobilités stop-monitoring API responses (PRIM, SIRI Lite
JSON) saved as JSON Lines. Those cannot be redistributed, so this script invents a small
equivalent with the real feed's nesting. Regenerate with
`python datasets/tools/make_idfm_stops.py [--out DATASETS_DIR]`; output is byte-identical.

Content: 40 lines, one poll a minute from 2024-03-12T07:00Z. Each line is one response for
the invented multimodal hub "Val-Fleuri" (stop area STIF:StopArea:SP:41870:): its three stop
points (an RER quay on STIF:Line::C01742:, a bus stop, a tram stop) with their next 4 visits
each, so 12 MonitoredStopVisit per response. Journeys keep their ItemIdentifier, aimed time
and delay from poll to poll; DepartureStatus is onTime, delayed or cancelled (journeys
C01742_41872_005 and C01390_41874_011 are cancelled: expected = aimed). Every time is
ISO 8601 UTC with milliseconds ("2024-03-12T07:08:00.000Z"). Names and ids are invented.

Deliberately imperfect, for dead-letter tests (line = 1-based line of the file, visit =
0-based index in StopMonitoringDelivery[0].MonitoredStopVisit):
- line 6, visit 2 (journey C01742_41872_004): MonitoredCall has no ExpectedDepartureTime
  (ExpectedArrivalTime kept).
- line 14, visit 5 (C01205_41873_003): MonitoredVehicleJourney has no LineRef.
- line 22, visit 7 (C01205_41873_006): ExpectedDepartureTime is "unknown", not a timestamp.
- line 30, visit 9 (C01390_41874_007): MonitoredCall.StopPointName is [] (no stop name).
- line 35: the upstream failed: Status "false", an ErrorCondition, no MonitoredStopVisit.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from example_io import gzip_bytes, json_text, out_dir, write

BASE = datetime(2024, 3, 12, 7, 0, tzinfo=UTC)
POLLS = 40
VISITS_PER_STOP = 4
CANCELLED = {("41872", 5), ("41874", 11)}  # (stop point, journey number)


@dataclass(frozen=True)
class Stop:
    quay: str
    name: str
    line: str
    operator: str
    direction: str
    destinations: tuple[tuple[str, str], ...]  # (DestinationRef, DestinationName), alternating
    headway_s: int
    first_offset_s: int
    dwell_s: int
    missions: tuple[str, ...] = ()


STOPS = (
    Stop(
        "41872", "Val-Fleuri", "STIF:Line::C01742:", "SYNTH:Operator::RER:",
        "Bois-Joli / Marne-la-Fontaine",
        (("41901", "Bois-Joli"), ("41955", "Marne-la-Fontaine")),
        480, -420, 30, ("BOJO", "MALF", "VAFL"),
    ),
    Stop(
        "41873", "Gare de Val-Fleuri", "STIF:Line::C01205:", "SYNTH:Operator::BUS:",
        "Mairie de Sainte-Aure", (("42210", "Mairie de Sainte-Aure"),), 660, -300, 0,
    ),
    Stop(
        "41874", "Val-Fleuri - Marché", "STIF:Line::C01390:", "SYNTH:Operator::TRAM:",
        "Pont des Vignes", (("42388", "Pont des Vignes"), ("42301", "Les Tilleuls")),
        360, -200, 20,
    ),
)  # fmt: skip


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def point(code: str) -> dict[str, str]:
    return {"value": f"STIF:StopPoint:Q:{code}:"}


@dataclass(frozen=True)
class Journey:
    stop: Stop
    number: int
    aimed: datetime
    delay_s: int
    status: str

    @property
    def expected(self) -> datetime:
        return self.aimed + timedelta(seconds=self.delay_s)

    @property
    def code(self) -> str:
        return f"{self.stop.line.split(':')[-2]}_{self.stop.quay}_{self.number:03d}"


def journeys(stop: Stop, rng: random.Random) -> list[Journey]:
    """The stop's timetable over the polled window, each journey with a fixed delay."""
    count = (POLLS * 60 + 3600) // stop.headway_s
    result = []
    for number in range(count):
        aimed = BASE + timedelta(seconds=stop.first_offset_s + number * stop.headway_s)
        delay = 30 * rng.randint(2, 14) if rng.random() < 0.3 else 0
        status = "delayed" if delay else "onTime"
        if (stop.quay, number) in CANCELLED:
            delay, status = 0, "cancelled"
        result.append(Journey(stop, number, aimed, delay, status))
    return result


def visit(journey: Journey, polled: datetime, rng: random.Random) -> dict[str, Any]:
    stop = journey.stop
    dest_ref, dest_name = stop.destinations[journey.number % len(stop.destinations)]
    dwell = timedelta(seconds=stop.dwell_s)
    notes = [{"value": stop.missions[journey.number % len(stop.missions)]}] if stop.missions else []
    until_departure = (journey.expected - polled).total_seconds()
    return {
        "RecordedAtTime": iso(polled - timedelta(milliseconds=rng.randint(4000, 50000))),
        "ItemIdentifier": f"SYNTH:Item::{journey.code}:LOC",
        "MonitoringRef": point(stop.quay),
        "MonitoredVehicleJourney": {
            "LineRef": {"value": stop.line},
            "OperatorRef": {"value": stop.operator},
            "FramedVehicleJourneyRef": {
                "DataFrameRef": {"value": "any"},
                "DatedVehicleJourneyRef": f"SYNTH:VehicleJourney::{journey.code}:LOC",
            },
            "DirectionName": [{"value": stop.direction}],
            "DestinationRef": point(dest_ref),
            "DestinationName": [{"value": dest_name}],
            "JourneyNote": notes,
            "MonitoredCall": {
                "StopPointName": [{"value": stop.name}],
                "VehicleAtStop": 0 <= until_departure < 60,
                "DestinationDisplay": [{"value": dest_name}],
                "AimedArrivalTime": iso(journey.aimed - dwell),
                "ExpectedArrivalTime": iso(journey.expected - dwell),
                "AimedDepartureTime": iso(journey.aimed),
                "ExpectedDepartureTime": iso(journey.expected),
                "DepartureStatus": journey.status,
                "ArrivalStatus": journey.status,
            },
        },
    }


def upcoming(timetable: list[Journey], polled: datetime) -> list[Journey]:
    return [j for j in timetable if j.expected >= polled][:VISITS_PER_STOP]


def _drop_expected_departure(v: dict[str, Any]) -> None:
    del v["MonitoredVehicleJourney"]["MonitoredCall"]["ExpectedDepartureTime"]


def _drop_line(v: dict[str, Any]) -> None:
    del v["MonitoredVehicleJourney"]["LineRef"]


def _unparseable_time(v: dict[str, Any]) -> None:
    v["MonitoredVehicleJourney"]["MonitoredCall"]["ExpectedDepartureTime"] = "unknown"


def _no_stop_name(v: dict[str, Any]) -> None:
    v["MonitoredVehicleJourney"]["MonitoredCall"]["StopPointName"] = []


# (line, visit index) -> what is wrong with it; the docstring lists the same.
FLAWS: dict[tuple[int, int], Callable[[dict[str, Any]], None]] = {
    (6, 2): _drop_expected_departure,
    (14, 5): _drop_line,
    (22, 7): _unparseable_time,
    (30, 9): _no_stop_name,
}
FAILED_POLL = 35


def delivery(line: int, polled: datetime, visits: list[dict[str, Any]]) -> dict[str, Any]:
    if line == FAILED_POLL:
        return {
            "ResponseTimestamp": iso(polled),
            "Version": "2.0",
            "Status": "false",
            "ErrorCondition": {"ErrorInformation": {"ErrorText": "Upstream service timeout"}},
        }
    for index, item in enumerate(visits):
        if flaw := FLAWS.get((line, index)):
            flaw(item)
    return {
        "ResponseTimestamp": iso(polled),
        "Version": "2.0",
        "Status": "true",
        "MonitoredStopVisit": visits,
    }


def response(line: int, timetables: list[list[Journey]], rng: random.Random) -> dict[str, Any]:
    polled = BASE + timedelta(seconds=60 * (line - 1), milliseconds=rng.randint(100, 900))
    visits = [visit(j, polled, rng) for table in timetables for j in upcoming(table, polled)]
    return {
        "Siri": {
            "ServiceDelivery": {
                "ResponseTimestamp": iso(polled),
                "ProducerRef": "SYNTH_HUB",
                "ResponseMessageIdentifier": f"SYNTH_HUB:ResponseMessage::{line:04d}:LOC",
                "StopMonitoringDelivery": [delivery(line, polled, visits)],
            }
        }
    }


def main(out: Path) -> list[Path]:
    rng = random.Random("streamlab-idfm-stops")
    timetables = [journeys(stop, rng) for stop in STOPS]
    lines = [json_text(response(n, timetables, rng)) for n in range(1, POLLS + 1)]
    data = ("\n".join(lines) + "\n").encode()
    return [write(out / "data" / "idfm_stops.jsonl.gz", gzip_bytes(data))]


if __name__ == "__main__":
    for path in main(out_dir(__doc__.splitlines()[0], sys.argv[1:])):
        print(path)
