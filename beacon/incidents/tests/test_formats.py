from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beacon.incidents.formats import (
    MAPPED,
    MISSING,
    SUPPRESSED,
    FormatError,
    IncidentReader,
    RowError,
    SourceRow,
)

VPD_HEADER = "TYPE,YEAR,MONTH,DAY,HOUR,MINUTE,HUNDRED_BLOCK,NEIGHBOURHOOD,X,Y\n"
POLICEUK_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
    "LSOA name,Crime type,Last outcome category,Context\n"
)


def write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read_all(path: Path, fmt: str, **kwargs: object) -> list[SourceRow | RowError]:
    reader = IncidentReader(path, fmt, **kwargs)  # type: ignore[arg-type]
    return [item for batch in reader.batches(3) for item in batch]


def test_vancouver_rows_suppressed_missing_and_time_ranges(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        VPD_HEADER
        + "Theft from Vehicle,2020,6,19,3,40,10XX ALBERNI ST,West End,491059.48,5459122.41\n"
        + "Offence Against a Person,2020,1,3,0,0,OFFSET TO PROTECT PRIVACY,West End,0.0,0.0\n"
        + "Mischief,2020,2,1,0,0,1XX MAIN ST,Strathcona,,\n",
    )
    rows = read_all(path, "vancouver", tz="America/Vancouver")
    first, second, third = rows
    assert isinstance(first, SourceRow) and first.location == MAPPED
    assert first.line == 2 and first.time_known and first.occurred_to is None
    assert first.lat == pytest.approx(49.2857, abs=1e-3)
    assert first.lon == pytest.approx(-123.1236, abs=1e-3)
    assert isinstance(second, SourceRow) and second.location == SUPPRESSED
    assert second.block == "" and not second.time_known
    assert second.occurred_to is not None
    assert (second.occurred_to - second.occurred_from).total_seconds() == 86400
    assert isinstance(third, SourceRow) and third.location == MISSING


def test_identical_rows_get_stable_distinct_keys(tmp_path: Path) -> None:
    row = "Mischief,2020,2,1,10,5,1XX MAIN ST,Strathcona,492000,5458000\n"
    path = write(tmp_path, VPD_HEADER + row * 3 + row.replace("Mischief", "Other Theft"))
    keys = [r.external_id for r in read_all(path, "vancouver") if isinstance(r, SourceRow)]
    assert len(set(keys)) == 4
    assert keys[:3] == [keys[0][:-2] + f"-{n}" for n in (1, 2, 3)]
    again = [r.external_id for r in read_all(path, "vancouver") if isinstance(r, SourceRow)]
    assert again == keys


def test_bad_rows_are_reported_with_their_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        VPD_HEADER
        + "Mischief,2020,13,1,10,5,1XX MAIN ST,Strathcona,492000,5458000\n"
        + "Mischief,2020,2,1,10,5,1XX MAIN ST,Strathcona,abc,5458000\n"
        + '"Mischief\nspanning",2020,2,1,10,5,1XX MAIN ST,Strathcona,492000,5458000\n'
        + "Mischief,2020,2,1\n"
        + "Mischief,2020,2,1,10,5,1XX MAIN ST,Strathcona,10,10\n",
    )
    rows = read_all(path, "vancouver")
    errors = {r.line: r.reason for r in rows if isinstance(r, RowError)}
    assert set(errors) == {2, 3, 6, 7}
    assert "date/time" in errors[2]
    assert "not a number" in errors[3]
    assert "columns" in errors[6]
    assert "EPSG:26910" in errors[7]
    good = [r for r in rows if isinstance(r, SourceRow)]
    assert [r.line for r in good] == [4]  # the quoted row spans lines 4 and 5


def test_policeuk_street_level_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        POLICEUK_HEADER
        + "abc123,2022-01,Notts Police,Notts Police,-1.1704,53.005,On or near Hathersage Close,"
        "E01013893,Nottingham 001A,Burglary,Under investigation,\n"
        + ",2022-02,Notts Police,Notts Police,,,No location,,,Anti-social behaviour,,\n",
    )
    first, second = read_all(path, "policeuk", tz="Europe/London")
    assert isinstance(first, SourceRow) and isinstance(second, SourceRow)
    assert first.external_id == "abc123"
    assert first.block == "On or near Hathersage Close"
    assert first.outcome == "Under investigation"
    assert first.occurred_to is not None and first.occurred_to.month == 2
    assert not first.time_known
    assert second.external_id.startswith("k")  # no Crime ID: a content key
    assert second.location == MISSING and second.block == ""


def test_chicago_portal_columns_and_domestic_flag(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ID,Case Number,Date,Block,Primary Type,Description,Domestic,Latitude,Longitude\n"
        "1,HZ1,04/27/2016 01:44:00 PM,073XX S COTTAGE GROVE AVE,BATTERY,SIMPLE,true,"
        "41.76,-87.60\n",
    )
    (row,) = read_all(path, "chicago", tz="America/Chicago")
    assert isinstance(row, SourceRow)
    assert row.external_id == "HZ1" and row.domestic and row.local.hour == 13


def test_repeated_ids_are_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "id,occurred_at,category,lat,lon\n"
        "a,2024-01-01T10:00,Burglary,49.27,-123.12\n"
        "a,2024-01-02T10:00,Burglary,49.27,-123.12\n",
    )
    rows = read_all(path, "beacon")
    assert isinstance(rows[1], RowError) and "first on line 2" in rows[1].reason


def test_generic_mapping_with_projected_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ref;when;what;E;N\nr1;01/02/2024;Theft;491059.48;5459122.41\n",
    )
    (row,) = read_all(
        path,
        "generic",
        crs="EPSG:26910",
        delimiter=";",
        time_format="%d/%m/%Y",
        mapping={"id": "ref", "time": "when", "category": "what", "x": "E", "y": "N"},
    )
    assert isinstance(row, SourceRow)
    assert row.local.month == 2 and not row.time_known
    assert row.location == MAPPED and row.lat == pytest.approx(49.2857, abs=1e-3)


def test_whole_file_problems_are_format_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="no 'TYPE'"):
        read_all(write(tmp_path, "a,b\n1,2\n"), "vancouver")
    with pytest.raises(FormatError, match="CRS"):
        read_all(
            write(tmp_path, "t,c,x,y\n"),
            "generic",
            mapping={"time": "t", "category": "c", "x": "x", "y": "y"},
        )
    with pytest.raises(FormatError, match="empty"):
        read_all(write(tmp_path, ""), "beacon")


cell = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(cell, min_size=0, max_size=12), max_size=12))
def test_any_rows_give_rows_or_line_errors_never_exceptions(
    tmp_path: Path, rows: list[list[str]]
) -> None:
    buffer = io.StringIO()
    buffer.write(VPD_HEADER)
    csv.writer(buffer).writerows(rows)
    path = tmp_path / "fuzz.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    reader = IncidentReader(path, "vancouver")
    items = [item for batch in reader.batches(5) for item in batch]
    lines = [item.line for item in items]
    assert lines == sorted(lines)
    for item in items:
        assert isinstance(item, SourceRow | RowError)
        if isinstance(item, SourceRow) and item.lat is not None:
            assert -90 <= item.lat <= 90


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lat=st.floats(allow_nan=True, allow_infinity=True),
    lon=st.floats(allow_nan=True, allow_infinity=True),
    when=st.text(max_size=25),
)
def test_beacon_rows_never_raise(tmp_path: Path, lat: float, lon: float, when: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "occurred_at", "category", "lat", "lon"])
    writer.writerow(["x1", when, "Burglary", repr(lat), repr(lon)])
    path = tmp_path / "fuzz.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    (item,) = [i for b in IncidentReader(path, "beacon").batches() for i in b]
    if isinstance(item, SourceRow) and item.location == MAPPED:
        assert item.lat is not None and abs(item.lat) <= 90
        assert item.lon is not None and abs(item.lon) <= 180


def test_ids_longer_than_the_column_are_rejected_not_cut(tmp_path: Path) -> None:
    long_id = "x" * 101
    path = write(
        tmp_path,
        "id,occurred_at,category,lat,lon\n"
        f"{long_id},2024-01-01T10:00,Burglary,49.27,-123.12\n"
        f"{long_id[:100]},2024-01-01T10:00,Burglary,49.27,-123.12\n",
    )
    first, second = read_all(path, "beacon")
    assert isinstance(first, RowError) and "longer than 100" in first.reason
    assert isinstance(second, SourceRow) and second.external_id == long_id[:100]
