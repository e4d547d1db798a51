"""Rebuild datasets/data/*.csv from the NOAA files shipped by the PyPI package vega_datasets.

Provenance, not a runtime step: the CSVs it writes are committed. Run with
`pip install vega_datasets==0.9.0 && python datasets/tools/build_noaa_data.py`.
NOAA data is in the public domain.
"""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import vega_datasets

SOURCE = Path(vega_datasets.__file__).parent / "_data"
TARGET = Path(__file__).resolve().parents[1] / "data"


def _rows(filename: str, station: str, date_format: str) -> list[tuple[str, str, str]]:
    with open(SOURCE / filename, newline="") as handle:
        return [
            (
                datetime.strptime(row["date"], date_format).strftime("%Y-%m-%d %H:%M"),
                station,
                row["temp"],
            )
            for row in csv.DictReader(handle)
        ]


def build_hourly_temps() -> Path:
    """Seattle and San Francisco hourly air temperature (F), 2010, interleaved by time."""
    rows = _rows("seattle-temps.csv", "seattle", "%Y/%m/%d %H:%M")
    rows += _rows("sf-temps.csv", "san_francisco", "%Y/%m/%d %H:%M:%S")
    rows.sort()
    target = TARGET / "noaa_hourly_temps_2010.csv"
    with open(target, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "station", "temp_f"])
        writer.writerows(rows)
    return target


def copy_seattle_weather() -> Path:
    target = TARGET / "seattle_weather_2012_2015.csv"
    shutil.copyfile(SOURCE / "seattle-weather.csv", target)
    return target


if __name__ == "__main__":
    TARGET.mkdir(exist_ok=True)
    print(build_hourly_temps())
    print(copy_seattle_weather())
