"""Row validation and the message format."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streamer.records import EpochFormatter, RowError, RowParser, encode_deadletter, encode_row, iso
from streamlab.settings import Settings
from streamlab.specs import load_specs

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
SPECS = load_specs(DATASETS, Settings.load().values)


def test_valid_row_is_typed() -> None:
    row = RowParser(SPECS["temps"]).parse(
        {"date": "2010-01-01 05:00", "station": "seattle", "temp_f": "39.4"}
    )
    assert row.key == "seattle" and row.tags == {"station": "seattle"}
    assert row.fields == {"temp_f": 39.4}
    assert row.original_time == datetime(2010, 1, 1, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            {"date": "2010-01-01 05:00", "station": "seattle", "temp_f": "warm"},
            "field 'temp_f'='warm'",
        ),
        (
            {"date": "2010-01-01 05:00", "station": "seattle", "temp_f": ""},
            "field 'temp_f' is missing",
        ),
        ({"date": "2010-01-01 05:00", "station": "seattle", "temp_f": "nan"}, "finite"),
        ({"date": "2010-01-01 05:00", "station": "", "temp_f": "1"}, "tag 'station' is missing"),
        ({"date": "yesterday", "station": "seattle", "temp_f": "1"}, "does not match format"),
        ({"station": "seattle", "temp_f": "1"}, "timestamp column 'date' is missing"),
    ],
)
def test_invalid_rows_give_a_reason(raw, reason) -> None:
    with pytest.raises(RowError, match=reason.replace("(", r"\(")):
        RowParser(SPECS["temps"]).parse(raw)


def test_int_and_epoch_fields() -> None:
    parser = RowParser(SPECS["bikes"])
    row = parser.parse(
        {
            "station_id": "a",
            "last_reported": 1700000000,
            "num_bikes_available": 3,
            "num_docks_available": "7",
            "is_renting": 1,
        }
    )
    assert row.fields == {"num_bikes_available": 3, "num_docks_available": 7, "is_renting": 1}
    assert row.original_time == datetime.fromtimestamp(1700000000, UTC)
    with pytest.raises(RowError, match="not an integer"):
        parser.parse(
            {
                "station_id": "a",
                "last_reported": 1,
                "num_bikes_available": 2.5,
                "num_docks_available": 1,
                "is_renting": 1,
            }
        )


def test_encoded_row_carries_times_and_seq() -> None:
    row = RowParser(SPECS["temps"]).parse(
        {"date": "2010-01-01 05:00", "station": "sf", "temp_f": "50"}
    )
    sent = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    message = json.loads(encode_row(row, 7, EpochFormatter()(sent.timestamp()), 123))
    assert message == {
        "ts": "2026-01-02T03:04:05.678901Z",
        "seq": 7,
        "sent_ms": 123,
        "original_ts": "2010-01-01T05:00:00.000000Z",
        "station": "sf",
        "temp_f": 50.0,
    }


def test_deadletter_keeps_the_record_and_reason() -> None:
    message = json.loads(
        encode_deadletter("temps", {"temp_f": "warm"}, "bad", datetime(2026, 1, 1, tzinfo=UTC))
    )
    assert message["record"] == {"temp_f": "warm"} and message["reason"] == "bad"
    assert message["dataset"] == "temps" and message["at"] == iso(datetime(2026, 1, 1, tzinfo=UTC))


def test_row_encoding_is_the_json_module_s() -> None:
    parser = RowParser(SPECS["sensors"])
    row = parser.parse(
        {"sensor": 'quote"back\\slash\u00e9', "temperature": 1e-7, "humidity": 3, "status": "ok"}
    )
    encoded = encode_row(row, 1, "2026-01-01T00:00:00.000000Z", 2)
    assert json.loads(encoded)["sensor"] == 'quote"back\\slash\u00e9'
    assert encoded.decode() == json.dumps(
        json.loads(encoded), separators=(",", ":"), ensure_ascii=False
    )


def test_epoch_formatter_matches_iso() -> None:
    fmt = EpochFormatter()
    for epoch in (0.0, 1_795_000_000.123456, 1_795_000_000.999999, 1_795_000_001.5):
        assert fmt(epoch) == iso(datetime.fromtimestamp(epoch, UTC))


def _nested_spec(tmp_path: Path, **top: object):
    from streamlab.specs import parse_spec

    (tmp_path / "x.jsonl").write_text("{}\n")
    document = {
        "name": "stops", "source": {"type": "jsonl", "path": "x.jsonl"},
        "tags": [{"name": "line", "path": "Journey.LineRef.value"}],
        "fields": {
            "aimed": {"type": "string", "path": "Journey.Call.Aimed"},
            "status": {"type": "string", "path": "Journey.Call.Status", "optional": True},
        },
        "timestamp": {"column": "recorded", "path": "RecordedAtTime", "format": "iso8601"},
        **top,
    }  # fmt: skip
    return parse_spec(document, tmp_path / "stops.yaml", {})


VISIT = {
    "RecordedAtTime": "2024-03-01T08:00:00Z",
    "Journey": {"LineRef": {"value": "C01742"}, "Call": {"Aimed": "2024-03-01T08:05:00Z"}},
}


def test_paths_reach_into_nested_records(tmp_path: Path) -> None:
    row = RowParser(_nested_spec(tmp_path)).parse(VISIT)
    assert row.tags == {"line": "C01742"}
    assert row.fields == {"aimed": "2024-03-01T08:05:00Z"}  # status optional, absent
    assert row.original_time == datetime(2024, 3, 1, 8, tzinfo=UTC) and row.source is None


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({**VISIT, "Journey": {"Call": {"Aimed": "x"}}},
         "tag 'line' is missing: path 'Journey.LineRef.value' found nothing"),
        ({**VISIT, "Journey": {"LineRef": {"value": "C1"}}},
         "field 'aimed' is missing: path 'Journey.Call.Aimed' found nothing"),
        ({"Journey": VISIT["Journey"]},
         "timestamp column 'recorded' is missing: path 'RecordedAtTime' found nothing"),
        (["not", "an", "object"], "the record is not a JSON object"),
    ],
)  # fmt: skip
def test_a_path_that_finds_nothing_is_the_reason(tmp_path: Path, record, reason) -> None:
    with pytest.raises(RowError) as caught:
        RowParser(_nested_spec(tmp_path)).parse(record)
    assert str(caught.value) == reason


def test_keep_source_carries_the_record_up_to_its_limit(tmp_path: Path) -> None:
    spec = _nested_spec(tmp_path, keep_source=True, key={"path": "Journey.LineRef.value"})
    row = RowParser(spec, max_source_bytes=4096).parse(VISIT)
    assert json.loads(row.source) == VISIT and row.key == "C01742"
    message = json.loads(encode_row(row, 3, "2026-01-01T00:00:00.000000Z", 1))
    assert json.loads(message["source"]) == VISIT
    with pytest.raises(RowError, match=r"over keep_source's limit of 50: raise STREAMER_MAX_SO"):
        RowParser(spec, max_source_bytes=50).parse(VISIT)


def test_a_csv_column_of_another_name(tmp_path: Path) -> None:
    from streamlab.specs import parse_spec

    (tmp_path / "x.csv").write_text("a\n")
    spec = parse_spec(
        {"name": "m", "source": {"type": "csv", "path": "x.csv"}, "tags": ["station"],
         "fields": {"temp_c": {"type": "float", "source": "T (°C)"}},
         "timestamp": {"column": "t", "format": "%Y%m%d%H", "source": "AAAAMMJJHH"}},
        tmp_path / "m.yaml", {},
    )  # fmt: skip
    row = RowParser(spec).parse({"station": "0031", "T (°C)": 12.5, "AAAAMMJJHH": "2024010112"})
    assert row.fields == {"temp_c": 12.5}
    assert row.original_time == datetime(2024, 1, 1, 12, tzinfo=UTC)
    with pytest.raises(RowError, match=r"field 'temp_c' is missing \(CSV column 'T \(°C\)'\)"):
        RowParser(spec).parse({"station": "0031", "AAAAMMJJHH": "2024010112"})
