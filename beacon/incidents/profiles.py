"""Import profiles: how the columns of each format become incident fields.

One profile per format of :data:`beacon.incidents.formats.FORMATS`; the reader
(:class:`~beacon.incidents.formats.IncidentReader`) streams the file, and
:func:`profile_for` gives it the parser for the file's header: row by row for most
formats, a whole batch at once with numpy for VPD files, which run to millions of
rows. Both follow the same cell rules and error messages (date parts, numbers,
missing-value markers), taken from :mod:`beacon.analytics.io`.

Pure Python and numpy (no Django).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import compress
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from beacon.analytics.io import (
    MISSING_VALUES,
    Columns,
    clean_cell,
    parse_chicago_time,
    parse_month,
    parse_vancouver_time,
    time_parser,
)
from beacon.incidents.rowbatch import (
    MAPPED,
    MISSING,
    NAT,
    SUPPRESSED,
    RowBatch,
    RowError,
    SourceRow,
    int_column,
)

if TYPE_CHECKING:
    from beacon.incidents.formats import IncidentReader

__all__ = ["FormatError", "Profile", "Reject", "check_range", "profile_for"]

_DEFAULT_CRS = {"vancouver": "EPSG:26910"}
_CHICAGO_FEET = "EPSG:3435"
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
# Calendar years a row may name: the conversions to UTC and a day's end stay in range.
_MIN_YEAR, _MAX_YEAR = 2, 9998


class FormatError(ValueError):
    """The file as a whole cannot be read (missing column, bad option, not UTF-8)."""


class Reject(Exception):
    """One row cannot be imported; ``reason`` says why (the reader adds the line)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


# A whole batch at once: lines and raw rows in, parsed columns, the raw rows kept (for
# their digests) and the rows rejected out.
BatchParser = Callable[[list[int], list[list[str]]], tuple[RowBatch, list[list[str]]]]


@dataclass
class Profile:
    """How one format's rows are parsed."""

    content_keyed: bool
    # Exactly one of these: a row-at-a-time parser, or a vectorised batch parser for
    # the formats whose files run to millions of rows.
    parse: Callable[[list[str], int], SourceRow] | None = None
    parse_batch: BatchParser | None = None
    # The CRS of projected x/y in this profile (one per file).
    crs: str | None = None


def profile_for(reader: IncidentReader, c: Columns) -> Profile:
    """How to parse the rows of ``reader``'s format, given the file's header."""
    builders: dict[str, Callable[[IncidentReader, Columns], Profile]] = {
        "beacon": _beacon,
        "vancouver": _vancouver,
        "policeuk": _policeuk,
        "chicago": _chicago,
        "generic": _generic,
    }
    return builders[reader.fmt](reader, c)


def _need(reader: IncidentReader, c: Columns, *names: str) -> int:
    index = c.find(*names)
    if index is None:
        raise FormatError(
            f"{reader.fmt} file has no {' / '.join(repr(n) for n in names)} column "
            f"(header: {', '.join(c.names)})"
        )
    return index


def _vancouver(reader: IncidentReader, c: Columns) -> Profile:
    idx = [_need(reader, c, k) for k in ("TYPE", "YEAR", "MONTH", "DAY", "X", "Y")]
    t_type, t_year, t_month, t_day, t_x, t_y = idx
    t_hour, t_minute = c.find("HOUR"), c.find("MINUTE")
    t_block, t_hood = c.find("HUNDRED_BLOCK"), c.find("NEIGHBOURHOOD")
    time_columns = (t_year, t_month, t_day, t_hour, t_minute)
    clock = reader.clock

    def parse_batch(lines: list[int], rows: list[list[str]]) -> tuple[RowBatch, list[list[str]]]:
        # VPD files run to millions of rows: every field is parsed for the whole
        # batch with numpy, and only rows the fast path cannot read go cell by cell
        # through the same rules (and error messages) as the other formats.
        n = len(rows)
        columns = list(zip(*rows, strict=True))
        year, bad = int_column(columns[t_year])
        month, bad_month = int_column(columns[t_month])
        day, bad_day = int_column(columns[t_day])
        bad |= bad_month | bad_day
        zeros = np.zeros(n, dtype=np.int64)
        hour, minute = zeros, zeros
        if t_hour is not None:
            hour, bad_hour = int_column(columns[t_hour], empty=0)
            bad |= bad_hour
        if t_minute is not None:
            minute, bad_minute = int_column(columns[t_minute], empty=0)
            bad |= bad_minute
        bad |= (year < _MIN_YEAR) | (year > _MAX_YEAR) | (month < 1) | (month > 12)
        bad |= (day < 1) | (hour < 0) | (hour > 23) | (minute < 0) | (minute > 59)
        local = _wall_clock(
            np.where(bad, 2000, year),
            np.where(bad, 1, month),
            np.where(bad, 1, day),
            np.where(bad, 0, hour),
            np.where(bad, 0, minute),
        )
        # A day past the month's end (31 April) rolls into the next month: not a date.
        bad |= local.astype("datetime64[M]").astype(np.int64) != (
            (np.where(bad, 2000, year) - 1970) * 12 + np.where(bad, 1, month) - 1
        )
        rejected: dict[int, str] = {}
        for i in np.flatnonzero(bad).tolist():
            parts = [clean_cell(rows[i], column) for column in time_columns]
            try:
                value = parse_vancouver_time(*parts)
                check_range(value)
            except (ValueError, Reject):
                rejected[i] = (
                    f"cannot read YEAR/MONTH/DAY/HOUR/MINUTE {'/'.join(parts)!r} as a date/time"
                )
                continue
            local[i] = np.datetime64(value, "us")
        x, y, xy_errors = _vancouver_xy(columns[t_x], columns[t_y])
        for i, reason in xy_errors.items():
            rejected.setdefault(i, reason)
        keep = np.ones(n, dtype=bool)
        keep[list(rejected)] = False
        errors = [RowError(lines[i], reason) for i, reason in sorted(rejected.items())]
        keep_list = keep.tolist()
        local = local[keep]
        x, y = x[keep], y[keep]
        count = len(local)
        # VPD writes 00:00 where it gives no time (and for every suppressed row).
        known = (local.astype("datetime64[m]").astype(np.int64) % 1440) != 0
        next_day = np.where(known, NAT, local + np.timedelta64(1, "D"))
        suppressed = (x == 0.0) & (y == 0.0)
        x[suppressed] = np.nan
        y[suppressed] = np.nan
        block = (
            list(map(str.strip, compress(columns[t_block], keep_list)))
            if t_block is not None
            else [""] * count
        )
        for i in np.flatnonzero(suppressed).tolist():
            block[i] = ""  # "OFFSET TO PROTECT PRIVACY" is not an address
        status = [MISSING] * count
        for i in np.flatnonzero(suppressed).tolist():
            status[i] = SUPPRESSED
        batch = RowBatch(
            lines=list(compress(lines, keep_list)),
            external_ids=[],
            digests=[],
            occurred_from=clock.to_utc(local),
            occurred_to=clock.to_utc(next_day),
            reported_at=np.full(count, NAT, dtype="datetime64[us]"),
            local=local,
            time_known=known,
            category=list(map(str.strip, compress(columns[t_type], keep_list))),
            lat=np.full(count, np.nan),
            lon=np.full(count, np.nan),
            x=x,
            y=y,
            location=status,
            block=block,
            neighbourhood=(
                list(map(str.strip, compress(columns[t_hood], keep_list)))
                if t_hood is not None
                else [""] * count
            ),
            outcome=[""] * count,
            domestic=np.zeros(count, dtype=bool),
            detail=[""] * count,
            errors=errors,
        )
        return batch, list(compress(rows, keep_list))

    return Profile(
        content_keyed=True,
        parse_batch=parse_batch,
        crs=reader.crs or _DEFAULT_CRS["vancouver"],
    )


def _policeuk(reader: IncidentReader, c: Columns) -> Profile:
    t_month = _need(reader, c, "Month")
    t_type = _need(reader, c, "Crime type")
    t_lon, t_lat = _need(reader, c, "Longitude"), _need(reader, c, "Latitude")
    t_id, t_loc = c.find("Crime ID"), c.find("Location")
    t_lsoa, t_outcome = c.find("LSOA name"), c.find("Last outcome category")
    zone = reader.zone

    def parse(row: list[str], line: int) -> SourceRow:
        text = clean_cell(row, t_month)
        try:
            local = parse_month(text)
        except ValueError:
            raise Reject(f"cannot read Month {text!r} as YYYY-MM") from None
        local = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = _next_month(local)
        location = clean_cell(row, t_loc)
        result = SourceRow(
            line=line,
            external_id=clean_cell(row, t_id),
            occurred_from=local.replace(tzinfo=zone),
            occurred_to=end.replace(tzinfo=zone),
            local=local,
            time_known=False,
            category=clean_cell(row, t_type),
            block="" if location.casefold() == "no location" else location,
            neighbourhood=clean_cell(row, t_lsoa),
            outcome=clean_cell(row, t_outcome),
        )
        _set_lonlat(result, clean_cell(row, t_lon), clean_cell(row, t_lat))
        return result

    return Profile(content_keyed=False, parse=parse)


def _chicago(reader: IncidentReader, c: Columns) -> Profile:
    t_date = _need(reader, c, "Date")
    t_type = _need(reader, c, "Primary Type")
    t_id = _need(reader, c, "Case Number", "ID")
    t_lat, t_lon = c.find("Latitude"), c.find("Longitude")
    t_x, t_y = c.find("X Coordinate"), c.find("Y Coordinate")
    if t_lat is None and t_x is None:
        raise FormatError("chicago file has neither Latitude/Longitude nor X/Y Coordinate")
    t_block, t_domestic = c.find("Block"), c.find("Domestic")
    t_desc, t_area = c.find("Description"), c.find("Community Area")
    zone = reader.zone

    def parse(row: list[str], line: int) -> SourceRow:
        text = clean_cell(row, t_date)
        try:
            local = parse_chicago_time(text)
        except ValueError:
            raise Reject(f"cannot read Date {text!r} as MM/DD/YYYY hh:mm:ss AM/PM") from None
        result = SourceRow(
            line=line,
            external_id=clean_cell(row, t_id),
            occurred_from=local.replace(tzinfo=zone),
            occurred_to=None,
            local=local,
            time_known=True,
            category=clean_cell(row, t_type),
            block=clean_cell(row, t_block),
            neighbourhood=clean_cell(row, t_area),
            domestic=clean_cell(row, t_domestic).casefold() in _TRUE,
            detail=clean_cell(row, t_desc),
        )
        lats, lons = clean_cell(row, t_lat), clean_cell(row, t_lon)
        if lats and lons:
            _set_lonlat(result, lons, lats)
        else:
            xs, ys = clean_cell(row, t_x), clean_cell(row, t_y)
            if xs and ys:
                result.x, result.y = _number(xs, "X Coordinate"), _number(ys, "Y Coordinate")
        return result

    return Profile(content_keyed=False, parse=parse, crs=_CHICAGO_FEET)


def _beacon(reader: IncidentReader, c: Columns) -> Profile:
    mapping = {
        "id": "id",
        "time": "occurred_at",
        "category": "category",
        "lat": "lat",
        "lon": "lon",
    }
    for optional in ("block", "x", "y", "neighbourhood", "outcome"):
        if c.find(optional) is not None:
            mapping[optional] = optional
    if c.find("occurred_to") is not None:
        mapping["time_to"] = "occurred_to"
    if c.find("reported_at") is not None:
        mapping["reported"] = "reported_at"
    if reader.crs is None:
        mapping.pop("x", None)
        mapping.pop("y", None)
    return _mapped(reader, c, mapping, "iso", require_id=True)


def _generic(reader: IncidentReader, c: Columns) -> Profile:
    if "time" not in reader.mapping or "category" not in reader.mapping:
        raise FormatError("the generic format needs at least time=COLUMN and category=COLUMN")
    has_xy = "x" in reader.mapping or "y" in reader.mapping
    has_ll = "lat" in reader.mapping or "lon" in reader.mapping
    if not (has_xy or has_ll):
        raise FormatError("the generic format needs lat= and lon= or x= and y= columns")
    if has_xy and reader.crs is None:
        raise FormatError("projected x/y columns need their CRS (--crs EPSG:NNNN)")
    return _mapped(reader, c, dict(reader.mapping), reader.time_format, require_id=False)


def _mapped(
    reader: IncidentReader,
    c: Columns,
    mapping: dict[str, str],
    time_format: str,
    *,
    require_id: bool,
) -> Profile:
    index = {key: _need(reader, c, column) for key, column in mapping.items()}
    for pair in (("lat", "lon"), ("x", "y")):
        if (pair[0] in index) != (pair[1] in index):
            raise FormatError(f"map both {pair[0]} and {pair[1]} columns, or neither")
    if require_id and "id" not in index:
        raise FormatError("beacon file has no 'id' column")
    parse_time = _time_parser(time_format)
    zone, crs = reader.zone, reader.crs
    t_time = index["time"]
    t_to, t_rep = index.get("time_to"), index.get("reported")
    t_id, t_cat = index.get("id"), index.get("category")
    t_lat, t_lon, t_x, t_y = (index.get(k) for k in ("lat", "lon", "x", "y"))
    t_block, t_hood = index.get("block"), index.get("neighbourhood")
    t_outcome, t_dom = index.get("outcome"), index.get("domestic")
    time_name = mapping["time"]

    def when(row: list[str], column: int | None, name: str) -> tuple[dt.datetime, bool] | None:
        text = clean_cell(row, column)
        if not text:
            return None
        try:
            value, has_time = parse_time(text)
        except (ValueError, OverflowError):
            raise Reject(f"cannot read {name} {text!r} as a date/time") from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value, has_time

    def parse(row: list[str], line: int) -> SourceRow:
        start = when(row, t_time, time_name)
        if start is None:
            raise Reject(f"{time_name} is empty")
        occurred, known = start
        end_pair = when(row, t_to, mapping.get("time_to", ""))
        end = end_pair[0] if end_pair else None
        if end is None and not known:
            unit = time_format if time_format in ("month",) else "date"
            local_start = occurred.astimezone(zone).replace(tzinfo=None)
            end = (
                _next_month(local_start) if unit == "month" else local_start + dt.timedelta(days=1)
            ).replace(tzinfo=zone)
        if end is not None and end < occurred:
            raise Reject("the occurrence range ends before it starts")
        reported = when(row, t_rep, mapping.get("reported", ""))
        result = SourceRow(
            line=line,
            external_id=clean_cell(row, t_id),
            occurred_from=occurred,
            occurred_to=end,
            local=occurred.astimezone(zone).replace(tzinfo=None),
            time_known=known and end is None,
            category=clean_cell(row, t_cat),
            block=clean_cell(row, t_block),
            neighbourhood=clean_cell(row, t_hood),
            outcome=clean_cell(row, t_outcome),
            reported_at=reported[0] if reported else None,
            domestic=clean_cell(row, t_dom).casefold() in _TRUE,
        )
        if require_id and not result.external_id:
            raise Reject("id is empty")
        xs, ys = clean_cell(row, t_x), clean_cell(row, t_y)
        if t_x is not None and xs and ys:
            x, y = _number(xs, "x"), _number(ys, "y")
            if not (x == 0.0 and y == 0.0):
                result.x, result.y = x, y
                return result
        if t_lat is not None:
            _set_lonlat(result, clean_cell(row, t_lon), clean_cell(row, t_lat))
        return result

    return Profile(content_keyed=t_id is None, parse=parse, crs=crs)


def _number(text: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise Reject(f"{column} value {text!r} is not a number") from None
    if not math.isfinite(value):
        raise Reject(f"{column} value {text!r} is not finite")
    return value


def _set_lonlat(row: SourceRow, lons: str, lats: str) -> None:
    if not lons or not lats:
        return  # no location: kept as an unmapped incident
    lon, lat = _number(lons, "longitude"), _number(lats, "latitude")
    if lat == 0.0 and lon == 0.0:
        return  # "0, 0" is how many exports write an unknown location
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise Reject(f"latitude {lat} / longitude {lon} is not a WGS84 position (swapped columns?)")
    row.lat, row.lon, row.location = lat, lon, MAPPED


def _next_month(value: dt.datetime) -> dt.datetime:
    if value.month == 12:
        return value.replace(year=value.year + 1, month=1)
    return value.replace(month=value.month + 1)


def _time_parser(time_format: str) -> Callable[[str], tuple[dt.datetime, bool]]:
    """A parser returning the datetime and whether it carries a time of day."""
    parse = time_parser(time_format)
    if time_format in ("", "iso"):
        return lambda text: (parse(text), len(text) > 10)
    if time_format in ("date", "month"):
        return lambda text: (parse(text), False)
    has_time = any(token in time_format for token in ("%H", "%I", "%M"))
    return lambda text: (parse(text), has_time)


def check_range(value: dt.datetime) -> None:
    """Reject times the databases and calendar arithmetic cannot hold (year 1 or 9999)."""
    try:
        year = value.astimezone(dt.UTC).year if value.tzinfo is not None else value.year
    except OverflowError:
        year = 0
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise Reject(f"date/time {value.isoformat()} is out of range")


def _wall_clock(
    year: npt.NDArray[np.int64],
    month: npt.NDArray[np.int64],
    day: npt.NDArray[np.int64],
    hour: npt.NDArray[np.int64],
    minute: npt.NDArray[np.int64],
) -> npt.NDArray[np.datetime64]:
    """Naive ``datetime64[us]`` from calendar parts (a day past the month's end rolls over)."""
    months = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")
    minutes = (hour * 60 + minute).astype("timedelta64[m]")
    return days.astype("datetime64[us]") + minutes


def _vancouver_xy(
    xs: tuple[str, ...], ys: tuple[str, ...]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], dict[int, str]]:
    """VPD X/Y cells as numbers (NaN where a cell is empty or a missing-value marker),
    and the reasons of rows whose cells are not numbers."""
    try:
        x = np.array(xs, dtype=np.float64)
        y = np.array(ys, dtype=np.float64)
        if np.isfinite(x).all() and np.isfinite(y).all():
            return x, y, {}
    except ValueError:
        pass
    # Something odd in the batch: the cell-by-cell rules (NaN, "NA", empty, "inf").
    x = np.full(len(xs), np.nan)
    y = np.full(len(xs), np.nan)
    errors: dict[int, str] = {}
    for i, (x_text, y_text) in enumerate(zip(xs, ys, strict=True)):
        xt, yt = x_text.strip(), y_text.strip()
        if (
            xt
            and yt
            and xt.casefold() not in MISSING_VALUES
            and yt.casefold() not in MISSING_VALUES
        ):
            try:
                x[i], y[i] = _number(xt, "X"), _number(yt, "Y")
            except Reject as exc:
                errors[i] = exc.reason
    return x, y, errors
