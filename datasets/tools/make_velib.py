"""Write Vélib'-shaped GBFS station_status snapshots and the stations' postcode table.

Why: seed 004 polls Vélib' Métropole's station_status.json, keeps stations 16107 and
32017, splits num_bikes_available_types into mechanical and e-bikes and joins postcodes.
The feed server (python -m feeds) answers GET /velib with these snapshots in turn, so the
example runs offline. Regenerate with `python datasets/tools/make_velib.py [--out
DATASETS_DIR]`; output is byte-identical.

Writes
- feeds/velib/station_status-001.json ... -010.json: {"lastUpdatedOther", "ttl",
  "data": {"stations": [30 stations]}}, one snapshot a minute from 2024-02-07T08:00Z, each
  station as Vélib' publishes it (stationCode as a string, station_id as a number, both
  snake_case and camelCase counts, num_bikes_available_types = [{"mechanical": m},
  {"ebike": e}] with m + e == num_bikes_available, last_reported in epoch seconds).
  Station 16107 reports in every snapshot, 32017 in every other one, the rest at random, so
  last_reported advances for some stations and stays put for others.
- data/velib_stations.csv: station_id,stationCode,name,postcode for the same 30 stations.

Only 16107 (station_id 213688169, 75016) and 32017 (2515829865, 93200) keep the ids seen
in seed 004; the other codes, ids and names are invented. Two stations are out of service
on purpose (for where-clauses): 08031 is closed for works (is_renting 0, is_returning 0,
no bikes, never reports) and 44002 is not installed yet (is_installed 0).
"""

from __future__ import annotations

import csv
import io
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from example_io import out_dir, write, write_feed

FIRST_UPDATE = 1707292800  # 2024-02-07T08:00:00Z
SNAPSHOTS = 10
TTL_S = 3600
# stationCode -> (station_id, postcode) for the seed's two stations.
SEED_STATIONS = {"16107": (213688169, "75016"), "32017": (2515829865, "93200")}
CLOSED, NOT_INSTALLED = "08031", "44002"
# Suburban stationCode prefixes and the postcode they stand for (invented mapping).
SUBURBS = {"21": "92100", "22": "92130", "31": "93100", "32": "93200", "41": "94300", "44": "94120"}
STREETS = (
    "Acacias", "Tilleuls", "Fontaine", "Moulin", "Marronniers", "Lilas", "Peupliers",
    "Glycines", "Cerisiers", "Vignes", "Sources", "Platanes", "Jardins", "Écoles",
)  # fmt: skip


@dataclass
class Station:
    code: str
    station_id: int
    name: str
    postcode: str
    capacity: int
    mechanical: int = 0
    ebike: int = 0
    disabled: int = 0
    reported: int = 0

    @property
    def bikes(self) -> int:
        return self.mechanical + self.ebike

    def status(self) -> dict[str, Any]:
        docks = (
            0
            if self.code in (CLOSED, NOT_INSTALLED)
            else self.capacity - self.bikes - self.disabled
        )
        return {
            "stationCode": self.code,
            "station_id": self.station_id,
            "num_bikes_available": self.bikes,
            "numBikesAvailable": self.bikes,
            "num_bikes_available_types": [{"mechanical": self.mechanical}, {"ebike": self.ebike}],
            "num_docks_available": docks,
            "numDocksAvailable": docks,
            "is_installed": int(self.code != NOT_INSTALLED),
            "is_returning": int(self.code not in (CLOSED, NOT_INSTALLED)),
            "is_renting": int(self.code not in (CLOSED, NOT_INSTALLED)),
            "last_reported": self.reported,
        }


def station_codes(rng: random.Random) -> list[str]:
    """28 invented codes (Paris arrondissement or suburb prefix) plus the seed's two."""
    prefixes = [f"{n:02d}" for n in range(1, 21)] + list(SUBURBS)
    codes = set(SEED_STATIONS) | {CLOSED, NOT_INSTALLED}
    while len(codes) < 30:
        codes.add(f"{rng.choice(prefixes)}{rng.randint(1, 140):03d}")
    return sorted(codes)


def postcode_of(code: str) -> str:
    return SUBURBS.get(code[:2], f"750{code[:2]}")


def make_stations(rng: random.Random) -> list[Station]:
    codes = station_codes(rng)
    names = rng.sample([f"{a} - {b}" for a in STREETS for b in STREETS if a != b], len(codes))
    stations = []
    for code, name in zip(codes, names, strict=True):
        station_id, _ = SEED_STATIONS.get(code, (rng.randint(100_000_000, 4_000_000_000), ""))
        station = Station(code, station_id, name, postcode_of(code), rng.randint(20, 60))
        if code not in (CLOSED, NOT_INSTALLED):
            station.disabled = rng.randint(0, 2)
            station.ebike = rng.randint(0, (station.capacity - station.disabled) // 3)
            station.mechanical = rng.randint(0, station.capacity - station.disabled - station.ebike)
        station.reported = FIRST_UPDATE - rng.randint(30, 900)
        stations.append(station)
    return stations


def reports(station: Station, snapshot: int, rng: random.Random) -> bool:
    if station.code in (CLOSED, NOT_INSTALLED):
        return False
    if station.code == "16107":
        return True
    if station.code == "32017":
        return snapshot % 2 == 0
    return rng.random() < 0.5


def step(station: Station, updated: int, rng: random.Random) -> None:
    """Bikes taken or returned since the last report, within the station's docks."""
    free = station.capacity - station.disabled
    station.ebike = min(max(station.ebike + rng.randint(-2, 2), 0), free)
    station.mechanical = min(max(station.mechanical + rng.randint(-2, 2), 0), free - station.ebike)
    station.reported = updated - rng.randint(1, 59)


def snapshots(stations: list[Station], rng: random.Random) -> list[dict[str, Any]]:
    documents = []
    for snapshot in range(SNAPSHOTS):
        updated = FIRST_UPDATE + 60 * snapshot
        if snapshot:
            for station in stations:
                if reports(station, snapshot, rng):
                    step(station, updated, rng)
        stations_now = [station.status() for station in stations]
        documents.append(
            {"lastUpdatedOther": updated, "ttl": TTL_S, "data": {"stations": stations_now}}
        )
    return documents


def stations_csv(stations: list[Station]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["station_id", "stationCode", "name", "postcode"])
    writer.writerows((s.station_id, s.code, s.name, s.postcode) for s in stations)
    return buffer.getvalue().encode()


def main(out: Path) -> list[Path]:
    rng = random.Random("streamlab-velib")
    stations = make_stations(rng)
    table = write(out / "data" / "velib_stations.csv", stations_csv(stations))
    return [*write_feed(out / "feeds" / "velib", "station_status", snapshots(stations, rng)), table]


if __name__ == "__main__":
    for path in main(out_dir(__doc__.splitlines()[0], sys.argv[1:])):
        print(path)
