"""Reading event files: formats, projection, errors with line numbers."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pytest

from beacon.analytics.events import AnalysisInputError, Events
from beacon.analytics.io import (
    detect_format,
    filter_category,
    project_lonlat,
    read_events,
    to_lonlat,
    utm_crs_for,
)


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return Path(os.environ.get("BEACON_DATA_DIR", default))


def shared(rel: str) -> Path:
    path = data_dir() / rel
    if not path.exists():
        pytest.skip(f"shared crime data not found at {path} (set BEACON_DATA_DIR)")
    return path


def write(tmp_path: Path, text: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def days(iso: str) -> float:
    when = dt.datetime.fromisoformat(iso)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds() / 86400


BEACON = (
    "id,occurred_at,category,lat,lon,block\n"
    "a,2024-03-01T22:15:00Z,Burglary,49.2827,-123.1207,10XX MAIN\n"
    "b,2024-03-02T08:00:00-08:00,Theft,49.2830,-123.1210,\n"
    "c,2024-03-02T09:00:00Z,Theft,,,\n"
    "d,2024-03-03,Mischief,49.2600,-123.1000,\n"
)


def test_beacon_latlon_projected_to_local_utm(tmp_path):
    events, report = read_events(write(tmp_path, BEACON))
    assert report.crs == "EPSG:32610"
    assert (report.rows_read, report.rows_used, report.skipped) == (
        4,
        3,
        {"missing coordinates": 1},
    )
    assert events.ids.tolist() == ["a", "b", "d"]
    assert events.category.tolist() == ["Burglary", "Theft", "Mischief"]
    assert events.t[0] == pytest.approx(days("2024-03-01T22:15:00+00:00"))
    # An offset is converted to UTC: 08:00 at -08:00 is 16:00 UTC.
    assert events.t[1] == pytest.approx(days("2024-03-02T16:00:00+00:00"))
    lon, lat = to_lonlat(events.x, events.y, report.crs)
    assert lon[0] == pytest.approx(-123.1207, abs=1e-7)
    assert lat[0] == pytest.approx(49.2827, abs=1e-7)
    # About 35 m apart on the ground.
    assert np.hypot(events.x[1] - events.x[0], events.y[1] - events.y[0]) == pytest.approx(
        40, abs=5
    )


def test_beacon_projected_xy_with_crs(tmp_path):
    text = (
        "id,occurred_at,category,lat,lon,x,y\n"
        "a,2024-03-01T10:00:00,Theft,,,491059.48,5459122.42\n"
        "b,2024-03-01T11:00:00,Theft,49.2827,-123.1207,,\n"
    )
    events, report = read_events(write(tmp_path, text), crs="EPSG:26910")
    assert report.crs == "EPSG:26910"
    assert events.x[0] == 491059.48
    # The lat/lon row is projected into the same CRS.
    assert 480_000 < events.x[1] < 500_000


def test_detect_format_and_auto(tmp_path):
    assert detect_format(write(tmp_path, BEACON)) == "beacon"
    _, report = read_events(write(tmp_path, BEACON), "auto")
    assert report.fmt == "beacon"


def test_unparseable_date_names_line_and_value(tmp_path):
    text = BEACON + "e,31/02/2024,Theft,49.28,-123.12,\n"
    with pytest.raises(AnalysisInputError, match=r"line 6: .*'31/02/2024'"):
        read_events(write(tmp_path, text))


def test_latitude_out_of_range_names_line(tmp_path):
    text = (
        "id,occurred_at,category,lat,lon\na,2024-01-01,X,49.2,-123.1\nb,2024-01-01,X,-123.1,49.2\n"
    )
    with pytest.raises(AnalysisInputError, match=r"line 3: latitude -123.1"):
        read_events(write(tmp_path, text))


def test_non_numeric_coordinate(tmp_path):
    text = "id,occurred_at,category,lat,lon\na,2024-01-01,X,north,-123.1\n"
    with pytest.raises(AnalysisInputError, match=r"line 2: latitude value 'north'"):
        read_events(write(tmp_path, text))


def test_latlon_outside_requested_crs(tmp_path):
    text = "id,occurred_at,category,lat,lon\na,2024-01-01,X,51.5,-0.12\n"
    with pytest.raises(
        AnalysisInputError, match=r"line 2: .*outside the area of use of EPSG:26910"
    ):
        read_events(write(tmp_path, text), crs="EPSG:26910")


def test_projected_coordinates_not_fitting_crs(tmp_path):
    # Chicago State Plane metres declared as UTM 10N land in the Pacific south of 30°N.
    text = "350353.39,578924.25,2015-12-31\n355691.34,586715.56,2016-01-01\n"
    with pytest.raises(AnalysisInputError, match=r"line 1: .*does not fit EPSG:26910"):
        read_events(write(tmp_path, text), "nearrepeat", crs="EPSG:26910")


def test_unknown_and_geographic_crs(tmp_path):
    path = write(tmp_path, BEACON)
    with pytest.raises(AnalysisInputError, match="unknown CRS"):
        read_events(path, crs="EPSG:999999")
    with pytest.raises(AnalysisInputError, match="geographic"):
        read_events(path, crs="EPSG:4326")


def test_missing_column_and_empty_file(tmp_path):
    with pytest.raises(AnalysisInputError, match="no 'occurred_at' column"):
        read_events(write(tmp_path, "id,when,lat,lon\n"))
    with pytest.raises(AnalysisInputError, match="empty"):
        read_events(write(tmp_path, "", "empty.csv"))
    with pytest.raises(AnalysisInputError, match="cannot open"):
        read_events(tmp_path / "nope.csv")


def test_category_filters(tmp_path):
    path = write(tmp_path, BEACON)
    events, report = read_events(path, category="theft")
    assert events.ids.tolist() == ["b"]
    assert report.skipped == {"category filtered out": 2, "missing coordinates": 1}
    events, _ = read_events(path, category=["burglary", "mischief"])
    assert events.ids.tolist() == ["a", "d"]
    assert len(filter_category(events, "burg")) == 1


def test_time_zone_option(tmp_path):
    text = "id,occurred_at,category,lat,lon\na,2024-07-01T12:00:00,X,49.28,-123.12\n"
    path = write(tmp_path, text)
    wall, _ = read_events(path)
    utc, _ = read_events(path, tz="America/Vancouver")
    assert wall.t[0] == pytest.approx(days("2024-07-01T12:00:00"))
    assert (utc.t[0] - wall.t[0]) * 24 == pytest.approx(7.0)  # PDT is UTC-7
    with pytest.raises(AnalysisInputError, match="time zone"):
        read_events(path, tz="Mars/Olympus")


def test_policeuk(tmp_path):
    text = (
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
        "LSOA name,Crime type,Last outcome category,Context\n"
        "abc,2022-01,Notts,Notts,-1.1704,53.005,On or near X,E01,N 1,Burglary,Unable,\n"
        ",2022-02,Notts,Notts,,,No location,,,Anti-social behaviour,,\n"
        "def,2022-03,Notts,Notts,-1.1916,53.014,On or near Y,E01,N 2,Vehicle crime,,\n"
    )
    path = write(tmp_path, text)
    assert detect_format(path) == "policeuk"
    events, report = read_events(path, "policeuk")
    assert report.crs == "EPSG:32630"
    assert events.ids.tolist() == ["abc", "def"]
    assert events.t[0] == pytest.approx(days("2022-01-01"))
    assert report.skipped == {"missing coordinates": 1}


def test_generic_mapping_with_projected_columns(tmp_path):
    text = "ref;when;what;E;N\nr1;01/02/2023 13:30;Theft;530000;180000\n"
    events, report = read_events(
        write(tmp_path, text),
        "generic",
        crs="EPSG:27700",
        id="ref",
        time="when",
        category_column="what",
        x="E",
        y="N",
        time_format="%d/%m/%Y %H:%M",
        delimiter=";",
    )
    assert report.crs == "EPSG:27700"
    assert events.ids.tolist() == ["r1"]
    assert events.t[0] == pytest.approx(days("2023-02-01T13:30:00"))
    with pytest.raises(AnalysisInputError, match="need their CRS"):
        read_events(write(tmp_path, text), "generic", time="when", x="E", y="N", delimiter=";")
    with pytest.raises(AnalysisInputError, match="only apply to the generic format"):
        read_events(write(tmp_path, text), "beacon", time="when")


def test_project_lonlat_roundtrip_and_zone():
    assert utm_crs_for(-87.6, 41.8) == "EPSG:32616"
    assert utm_crs_for(-0.1, 51.5) == "EPSG:32630"
    x, y, crs = project_lonlat([-87.6, -87.61], [41.8, 41.81])
    assert crs == "EPSG:32616"
    lon, lat = to_lonlat(x, y, crs)
    np.testing.assert_allclose(lon, [-87.6, -87.61], atol=1e-9)
    np.testing.assert_allclose(lat, [41.8, 41.81], atol=1e-9)
    with pytest.raises(AnalysisInputError, match="latitude 95"):
        project_lonlat([10.0], [95.0])


@pytest.mark.data
def test_vancouver_suppressed_locations_counted():
    events, report = read_events(
        shared("vancouver_2020/crimedata_csv_AllNeighbourhoods_2020.csv"), "auto"
    )
    assert report.fmt == "vancouver" and report.crs == "EPSG:26910"
    assert report.rows_read == 37_512
    assert report.skipped == {"location suppressed": 3_750, "missing coordinates": 1}
    assert len(events) == 37_512 - 3_751
    assert isinstance(events, Events)
    assert events.t.min() >= days("2020-01-01") and events.t.max() < days("2021-01-01")


@pytest.mark.data
def test_chicago_portal_sample():
    events, report = read_events(
        shared("chicago_southside_2016/chicago_southside_2016_sample.csv"), "auto"
    )
    assert report.fmt == "chicago" and report.crs == "EPSG:32616" and len(events) == 1000
    assert events.ids[0] == "HZ242280" and events.category[0] == "BATTERY"
    assert events.t[0] == pytest.approx(days("2016-04-27T13:44:00"))


@pytest.mark.data
def test_nearrepeat_file():
    events, report = read_events(
        shared("nearrepeat_chicago_burglary_month1/chicago_be_month1.csv"), "nearrepeat"
    )
    assert report.crs is None and len(events) == 970
    assert events.t[0] == days("2015-12-31")
    assert events.x[0] == pytest.approx(350353.394956896)
    events, report = read_events(
        shared("nearrepeat_chicago_burglary_month1/chicago_be_month1.csv"),
        "nearrepeat",
        crs="EPSG:26971",
    )
    assert report.crs == "EPSG:26971"


@pytest.mark.data
def test_cincinnati_profile_and_generic_mapping_agree():
    path = shared("misc/cincinnati_burglary_2016_2018.csv")
    assert detect_format(path) == "crimedata"
    a, report = read_events(path, "cincinnati")
    assert report.rows_read == 8_723 and report.skipped == {"missing coordinates": 426}
    b, _ = read_events(
        path,
        "generic",
        id="incident_no",
        time="offense_date",
        category_column="offense",
        lat="latitude",
        lon="longitude",
    )
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.t, b.t)
    assert a.ids.tolist() == b.ids.tolist()


# --- the cell-level helpers the incident importer shares ---------------------------------


def test_shared_cell_helpers_read_the_published_formats() -> None:
    from beacon.analytics.io import (
        Columns,
        clean_cell,
        parse_chicago_time,
        parse_date_flexible,
        parse_month,
        parse_vancouver_time,
        time_parser,
    )

    assert parse_vancouver_time("2020", "6.0", " 19", "", "") == dt.datetime(2020, 6, 19)
    assert parse_vancouver_time("2020", "6", "19", "23", "5") == dt.datetime(2020, 6, 19, 23, 5)
    for bad in (("2020", "2", "30"), ("2020", "x", "1"), ("inf", "1", "1"), ("nan", "1", "1")):
        with pytest.raises(ValueError):
            parse_vancouver_time(*bad)
    assert parse_chicago_time("12/31/2016 11:59:00 PM") == dt.datetime(2016, 12, 31, 23, 59)
    assert parse_month("2022-03") == dt.datetime(2022, 3, 1)
    assert parse_date_flexible("3/7/2016") == parse_date_flexible("2016-03-07")
    assert time_parser("%d/%m/%Y")("07/03/2016") == dt.datetime(2016, 3, 7)
    assert time_parser("iso")("2016-03-07T10:00:00+02:00").utcoffset() == dt.timedelta(hours=2)
    row = [" a ", "N/A", "null", " 5 "]
    assert [clean_cell(row, i) for i in (0, 1, 2, 3, 4, None)] == ["a", "", "", "5", "", ""]
    columns = Columns(["\ufeffCase Number", " Date ", "Primary Type"])
    assert (columns.find("case number"), columns.find("ID", "date")) == (0, 1)
    with pytest.raises(AnalysisInputError, match="no 'Block' column"):
        columns.need("chicago", "Block")


def test_projection_helpers_flag_points_outside_the_crs() -> None:
    from beacon.analytics.io import outside_area_of_use, transformer

    lon, lat = transformer("EPSG:26910", "EPSG:4326").transform(
        np.array([491059.48, 10.0]), np.array([5459122.41, 10.0])
    )
    assert lat[0] == pytest.approx(49.2857, abs=1e-3)
    assert outside_area_of_use(np.asarray(lon), np.asarray(lat), "EPSG:26910").tolist() == [
        False,
        True,
    ]
    assert transformer("EPSG:26910", "EPSG:4326") is transformer("EPSG:26910", "EPSG:4326")
