"""Write datasets/data/meteo_31.csv.gz: a week of hourly observations in Météo-France's layout.

Why: seed 002 streams Météo-France's hourly file for Haute-Garonne (H_31_latest-2023-2024
.csv.gz from meteo.data.gouv.fr). This script invents a small file with the same layout so
the example runs offline and ships licence-clean. Regenerate with
`python datasets/tools/make_meteo_31.py [--out DATASETS_DIR]`; output is byte-identical.

Layout, as in the real files: gzip, ';'-separated, '.' decimal point, "\\n" line ends, the
full 204-column header (NUM_POSTE;NOM_USUEL;LAT;LON;ALTI;AAAAMMJJHH;RR1;QRR1;DRR1;...;T;QT;
...), every measure followed by its quality code Q<measure> (1 validated, 2 doubtful,
9 not yet checked; the times of extremes HTN, HTX, HUN, HUX, HXI always 9). AAAAMMJJHH is
UTC in %Y%m%d%H; a row covers the hour ending then. A measure a station does not take is an
empty field, and so is its quality code: most of the 204 columns are empty.

Three stations, 2023-10-16 00h to 2023-10-22 23h, rows sorted by station then time:
- 31069001 TOULOUSE-BLAGNAC (the real station's number, name and position; the values are
  synthetic): RR1 DRR1 FF DD FXI DXI HXI T TD TN HTN TX HTX U UN HUN UX HUX PMER PSTAT VV
  N GLO INS.
- 31901001 COTEAUX-DU-GIROU (invented): RR1 DRR1 FF DD FXI DXI HXI T TN HTN TX HTX U UN
  HUN UX HUX. Its thermometer and hygrometer drop out on 2023-10-20 05h-07h: T, TN, HTN,
  TX, HTX, U, UN, HUN, UX, HUX are empty in those 3 rows.
- 31902001 PORT-DE-LA-MONTAGNE (invented, 1385 m): RR1 T TN HTN TX HTX. Its logger lost
  2023-10-21 11h and 12h: those 2 rows are absent (166 rows instead of 168).
One value is flagged doubtful: TOULOUSE-BLAGNAC's gust FXI at 2023-10-19 14h has QFXI 2.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from example_io import gzip_bytes, out_dir, write

HEADER = (
    "NUM_POSTE;NOM_USUEL;LAT;LON;ALTI;AAAAMMJJHH;RR1;QRR1;DRR1;QDRR1;FF;QFF;DD;QDD;FXY;QFXY;"
    "DXY;QDXY;HXY;QHXY;FXI;QFXI;DXI;QDXI;HXI;QHXI;FF2;QFF2;DD2;QDD2;FXI2;QFXI2;DXI2;QDXI2;"
    "HXI2;QHXI2;FXI3S;QFXI3S;DXI3S;QDXI3S;HFXI3S;QHFXI3S;T;QT;TD;QTD;TN;QTN;HTN;QHTN;TX;QTX;"
    "HTX;QHTX;DG;QDG;T10;QT10;T20;QT20;T50;QT50;T100;QT100;TNSOL;QTNSOL;TN50;QTN50;"
    "TCHAUSSEE;QTCHAUSSEE;DHUMEC;QDHUMEC;U;QU;UN;QUN;HUN;QHUN;UX;QUX;HUX;QHUX;DHUMI40;"
    "QDHUMI40;DHUMI80;QDHUMI80;TSV;QTSV;PMER;QPMER;PSTAT;QPSTAT;PMERMIN;QPMERMIN;GEOP;QGEOP;"
    "N;QN;NBAS;QNBAS;CL;QCL;CM;QCM;CH;QCH;N1;QN1;C1;QC1;B1;QB1;N2;QN2;C2;QC2;B2;QB2;N3;QN3;"
    "C3;QC3;B3;QB3;N4;QN4;C4;QC4;B4;QB4;VV;QVV;DVV200;QDVV200;WW;QWW;W1;QW1;W2;QW2;SOL;QSOL;"
    "SOLNG;QSOLNG;TMER;QTMER;VVMER;QVVMER;ETATMER;QETATMER;DIRHOULE;QDIRHOULE;HVAGUE;QHVAGUE;"
    "PVAGUE;QPVAGUE;HNEIGEF;QHNEIGEF;NEIGETOT;QNEIGETOT;TSNEIGE;QTSNEIGE;TUBENEIGE;"
    "QTUBENEIGE;HNEIGEFI3;QHNEIGEFI3;HNEIGEFI1;QHNEIGEFI1;ESNEIGE;QESNEIGE;CHARGENEIGE;"
    "QCHARGENEIGE;GLO;QGLO;GLO2;QGLO2;DIR;QDIR;DIR2;QDIR2;DIF;QDIF;DIF2;QDIF2;UV;QUV;UV2;"
    "QUV2;UV_INDICE;QUV_INDICE;INFRAR;QINFRAR;INFRAR2;QINFRAR2;INS;QINS;INS2;QINS2;TLAGON;"
    "QTLAGON;TVEGETAUX;QTVEGETAUX;ECOULEMENT;QECOULEMENT"
)
COLUMNS = HEADER.split(";")
START = datetime(2023, 10, 16)
HOURS = 7 * 24
TIMES_OF_EXTREMES = {"HTN", "HTX", "HUN", "HUX", "HXI"}
THERMO_HYGRO = ("T", "TN", "HTN", "TX", "HTX", "U", "UN", "HUN", "UX", "HUX")

# Shape of a day's temperature, coldest at 05h UTC, warmest at 14h (a table, not sin(),
# so the output does not depend on the platform's libm).
DIURNAL = (
    -0.55, -0.65, -0.75, -0.85, -0.92, -1.0, -0.98, -0.85, -0.6, -0.3, 0.05, 0.4,
    0.7, 0.9, 1.0, 0.95, 0.8, 0.55, 0.3, 0.1, -0.1, -0.25, -0.38, -0.48,
)  # fmt: skip
# Share of the midday sun by hour (UTC), mid-October in Toulouse.
DAYLIGHT = {7: 0.08, 8: 0.3, 9: 0.55, 10: 0.78, 11: 0.93, 12: 1.0, 13: 0.95, 14: 0.82,
            15: 0.62, 16: 0.36, 17: 0.1}  # fmt: skip
DAY_MEAN = (17.2, 17.8, 15.0, 13.1, 12.6, 14.0, 15.4)
DAY_AMPLITUDE = (6.0, 5.5, 3.0, 2.0, 2.5, 5.0, 6.0)
# Rain episodes at Blagnac: (first hour index, last hour index, mean mm/h).
RAIN = ((50, 58, 1.2), (62, 66, 0.6), (75, 90, 2.0), (99, 104, 0.8))


@dataclass(frozen=True)
class Station:
    number: str
    name: str
    lat: str
    lon: str
    alti: int
    measures: tuple[str, ...]
    offset_c: float  # temperature offset from Blagnac
    rain_lag_h: int
    rain_factor: float


FULL = ("RR1", "DRR1", "FF", "DD", "FXI", "DXI", "HXI", "T", "TD", "TN", "HTN", "TX", "HTX",
        "U", "UN", "HUN", "UX", "HUX", "PMER", "PSTAT", "VV", "N", "GLO", "INS")  # fmt: skip
STATIONS = (
    Station("31069001", "TOULOUSE-BLAGNAC", "43.621", "1.378833", 151, FULL, 0.0, 0, 1.0),
    Station("31901001", "COTEAUX-DU-GIROU", "43.655", "1.621", 232,
            tuple(m for m in FULL if m not in ("TD", "PMER", "PSTAT", "VV", "N", "GLO", "INS")),
            -0.7, 1, 0.9),
    Station("31902001", "PORT-DE-LA-MONTAGNE", "42.812", "0.598", 1385,
            ("RR1", "T", "TN", "HTN", "TX", "HTX"), -8.5, 1, 1.4),
)  # fmt: skip
DROPOUT = ("31901001", range(101, 104))  # 2023-10-20 05h-07h
LOGGER_GAP = ("31902001", range(131, 133))  # 2023-10-21 11h-12h
DOUBTFUL = ("31069001", 86, "FXI")  # 2023-10-19 14h


def one_decimal(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def hhmm(hour: int, minute: int) -> str:
    """When an extreme occurred within the hour ending at `hour`, as Météo-France writes it."""
    clock = ((hour - 1) % 24) * 100 + minute if minute < 60 else hour * 100
    return str(clock)


def rain_mm(hour: int, station: Station, rng: random.Random) -> float:
    for first, last, mean in RAIN:
        if first + station.rain_lag_h <= hour <= last + station.rain_lag_h:
            return (
                0.0 if rng.random() < 0.15 else mean * station.rain_factor * rng.uniform(0.2, 1.8)
            )
    return 0.0


def sea_level_pressure(hour: int) -> float:
    """Fair weather, a low passing through on the 18th-19th, then rising again."""
    if hour < 40:
        return 1021.0 - 0.02 * hour
    if hour < 80:
        return 1020.2 - 0.38 * (hour - 40)
    return 1005.0 + 0.25 * (hour - 80) if hour < 130 else 1017.5


class Week:
    """The hourly values of one station, drawn in time order from one RNG."""

    def __init__(self, station: Station, rng: random.Random) -> None:
        self.station, self.rng, self.noise = station, rng, 0.0

    def values(self, hour: int) -> dict[str, str]:
        rng, station = self.rng, self.station
        day, clock = divmod(hour, 24)
        self.noise = 0.7 * self.noise + rng.uniform(-0.4, 0.4)
        mean = DAY_MEAN[day] + station.offset_c
        temp = mean + DAY_AMPLITUDE[day] * DIURNAL[clock] + self.noise
        rain = rain_mm(hour, station, rng)
        humid = (
            rng.uniform(90, 99)
            if rain
            else min(max(92 - 2.4 * (temp - mean + DAY_AMPLITUDE[day]), 38), 98)
        )
        autan = day < 2  # the dry south-easterly of the first two days
        wind = (rng.uniform(4.5, 9.0) if autan else rng.uniform(1.0, 5.5)) + (1.5 if rain else 0.0)
        direction = rng.randrange(11, 15) * 10 if autan else rng.randrange(27, 33) * 10
        cloud = rng.randint(7, 8) if rain else rng.randint(0, 4)
        values = {
            "RR1": one_decimal(rain),
            "DRR1": str(min(60, int(rain * 25 + rng.uniform(5, 20)))) if rain else "0",
            "FF": one_decimal(wind),
            "DD": str(direction),
            "FXI": one_decimal(wind * rng.uniform(1.4, 1.9)),
            "DXI": str((direction + rng.choice((-20, -10, 0, 10, 20)) - 10) % 360 + 10),
            "HXI": hhmm(clock, rng.randint(1, 60)),
            "T": one_decimal(temp),
            "TD": one_decimal(temp - (100 - humid) / 5),
            "TN": one_decimal(temp - rng.uniform(0, 0.8)),
            "HTN": hhmm(clock, rng.randint(1, 60)),
            "TX": one_decimal(temp + rng.uniform(0, 0.8)),
            "HTX": hhmm(clock, rng.randint(1, 60)),
            "U": str(round(humid)),
            "UN": str(max(round(humid) - rng.randint(0, 3), 1)),
            "HUN": hhmm(clock, rng.randint(1, 60)),
            "UX": str(min(round(humid) + rng.randint(0, 3), 100)),
            "HUX": hhmm(clock, rng.randint(1, 60)),
            "PMER": one_decimal(sea_level_pressure(hour) + rng.uniform(-0.3, 0.3)),
            "VV": str(rng.randrange(25, 90) * 100 if rain else rng.randrange(150, 450) * 100),
            "N": str(cloud),
            "GLO": str(int(220 * DAYLIGHT.get(clock, 0.0) * (1 - cloud / 10))),
            "INS": str(int(60 * (1 - cloud / 8) * rng.uniform(0.7, 1.0)))
            if clock in DAYLIGHT
            else "0",
        }
        values["PSTAT"] = one_decimal(float(values["PMER"]) - station.alti / 8.3)
        return {measure: values[measure] for measure in station.measures}


def quality(station: Station, hour: int, measure: str) -> str:
    if measure in TIMES_OF_EXTREMES:
        return "9"
    return "2" if (station.number, hour, measure) == DOUBTFUL else "1"


def rows(station: Station, rng: random.Random) -> list[str]:
    week, lines = Week(station, rng), []
    for hour in range(HOURS):
        values = week.values(hour)
        if station.number == LOGGER_GAP[0] and hour in LOGGER_GAP[1]:
            continue
        if station.number == DROPOUT[0] and hour in DROPOUT[1]:
            values = {k: v for k, v in values.items() if k not in THERMO_HYGRO}
        fields = {
            "NUM_POSTE": station.number, "NOM_USUEL": station.name, "LAT": station.lat,
            "LON": station.lon, "ALTI": str(station.alti),
            "AAAAMMJJHH": f"{START + timedelta(hours=hour):%Y%m%d%H}",
        }  # fmt: skip
        for measure, value in values.items():
            fields[measure], fields[f"Q{measure}"] = value, quality(station, hour, measure)
        lines.append(";".join(fields.get(column, "") for column in COLUMNS))
    return lines


def main(out: Path) -> list[Path]:
    rng = random.Random("streamlab-meteo-31")
    lines = [HEADER] + [line for station in STATIONS for line in rows(station, rng)]
    data = ("\n".join(lines) + "\n").encode()
    return [write(out / "data" / "meteo_31.csv.gz", gzip_bytes(data))]


if __name__ == "__main__":
    for path in main(out_dir(__doc__.splitlines()[0], sys.argv[1:])):
        print(path)
