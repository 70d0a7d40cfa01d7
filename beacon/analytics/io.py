"""Read crime event files into :class:`~beacon.analytics.events.Events`.

Every reader streams its file row by row with the :mod:`csv` module, keeps only the
parsed numbers (never the raw rows), and returns the events together with a
:class:`ReadReport` that says how many rows were read, used and skipped (and why).

Formats
-------
``beacon``
    The Beacon incident CSV: ``id,occurred_at,category,lat,lon`` and optionally
    ``block,x,y``. When ``crs`` is given and a row has ``x``/``y``, those projected
    coordinates are used (declared in ``crs``); otherwise ``lat``/``lon`` are projected
    into ``crs`` (or a local UTM zone when ``crs`` is None).
``vancouver``
    VPD open data (``TYPE,YEAR,MONTH,DAY,HOUR,MINUTE,HUNDRED_BLOCK,NEIGHBOURHOOD,X,Y``),
    X/Y in EPSG:26910. Rows with ``X = Y = 0`` have a suppressed location and are
    skipped (reason ``location suppressed``).
``policeuk``
    police.uk street-level CSV (``Crime ID, Month, Longitude, Latitude, Location,
    Crime type, ...``); ``Month`` is ``YYYY-MM`` and becomes the first day of the month.
``chicago``
    City of Chicago data portal export (``Case Number`` or ``ID``, ``Date`` as
    ``MM/DD/YYYY hh:mm:ss AM/PM``, ``Primary Type``, ``Latitude``, ``Longitude``;
    ``X Coordinate``/``Y Coordinate`` in EPSG:3435 are used when lat/lon are empty).
``nearrepeat``
    The Near Repeat Calculator input: no header, columns ``X,Y,date`` in a projected
    metric CRS (``crs`` declares it; None means "metres, CRS unknown"). Dates are
    ISO ``YYYY-MM-DD`` or ``M/D/YYYY``.
``crimedata``
    The tidy extracts of the open crime-mapping teaching data sets (Cincinnati, San
    Francisco, New York, Nottingham): id from ``uid`` or ``incident_no``, time from
    ``offense_date``, ``date_time`` or ``month``, category from ``offense`` or
    ``offense_type``, and ``longitude``/``latitude``. ``cincinnati`` is an alias.
``generic``
    Any delimited file with a column mapping passed as keyword options (see
    :func:`read_events`).
``auto``
    Pick one of the above from the header (see :func:`detect_format`).

Times
-----
``Events.t`` is days since 1970-01-01. Times with a UTC offset are converted to UTC.
Wall-clock times without an offset are kept as wall-clock (stored as if UTC) unless a
``tz`` option names their zone, in which case they are converted to UTC. Keeping the
wall clock by default means calendar days and hours of day stay those of the source,
which is what near-repeat day bands and hour-of-day profiles expect.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import zoneinfo
from array import array
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import CRS, Transformer

from beacon.analytics.events import AnalysisInputError, Events

__all__ = [
    "FORMATS",
    "MISSING_VALUES",
    "Columns",
    "ReadReport",
    "clean_cell",
    "detect_format",
    "filter_category",
    "outside_area_of_use",
    "parse_chicago_time",
    "parse_date_flexible",
    "parse_iso",
    "parse_month",
    "parse_vancouver_time",
    "project_lonlat",
    "read_events",
    "time_parser",
    "to_lonlat",
    "transformer",
    "utm_crs_for",
]

FORMATS = (
    "auto",
    "beacon",
    "vancouver",
    "policeuk",
    "chicago",
    "nearrepeat",
    "crimedata",
    "cincinnati",
    "generic",
)

FloatArray = npt.NDArray[np.float64]
_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

SKIP_MISSING_COORDS = "missing coordinates"
SKIP_SUPPRESSED = "location suppressed"
SKIP_MISSING_TIME = "missing time"
SKIP_CATEGORY = "category filtered out"
SKIP_SHORT_ROW = "short row"


@dataclass
class ReadReport:
    """What a reader did with a file.

    Attributes
    ----------
    path : str
        The file read.
    fmt : str
        The format used (after ``auto`` detection).
    crs : str or None
        CRS of the returned ``x``/``y`` (e.g. ``"EPSG:32616"``); None when projected
        input came without a declared CRS (metres, but no way back to lat/lon).
    rows_read : int
        Data rows seen (header excluded).
    rows_used : int
        Rows returned as events.
    skipped : dict of str to int
        Rows left out, by reason.
    """

    path: str
    fmt: str
    crs: str | None = None
    rows_read: int = 0
    rows_used: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def rows_skipped(self) -> int:
        """Total rows left out."""
        return sum(self.skipped.values())

    def summary(self) -> str:
        """One line for people: ``read N rows, used M, skipped K (reason: k, ...)``.

        Examples
        --------
        >>> ReadReport("a.csv", "beacon", None, 5, 3, {"missing coordinates": 2}).summary()
        'a.csv: read 5 rows, used 3, skipped 2 (missing coordinates: 2)'
        """
        text = f"{self.path}: read {self.rows_read} rows, used {self.rows_used}"
        if self.skipped:
            reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.skipped.items()))
            text += f", skipped {self.rows_skipped} ({reasons})"
        return text


# --------------------------------------------------------------------------- projection


def utm_crs_for(lon: float, lat: float) -> str:
    """Return the WGS84 UTM zone CRS (``EPSG:326zz`` north, ``EPSG:327zz`` south).

    Examples
    --------
    >>> utm_crs_for(-123.1, 49.3)
    'EPSG:32610'
    >>> utm_crs_for(151.2, -33.9)
    'EPSG:32756'
    """
    zone = math.floor((lon + 180.0) / 6.0) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


@lru_cache(maxsize=32)
def transformer(src: str, dst: str) -> Transformer:
    """A cached pyproj transformer from ``src`` to ``dst`` (x = longitude/easting first).

    Call ``.transform(xs, ys)`` with arrays: pyproj converts a whole batch in one call.
    """
    return Transformer.from_crs(src, dst, always_xy=True)


@lru_cache(maxsize=32)
def _area_of_use(crs: str) -> tuple[float, float, float, float] | None:
    area = CRS.from_user_input(crs).area_of_use
    if area is None:
        return None
    return (area.west, area.south, area.east, area.north)


def _check_crs(crs: str) -> str:
    try:
        parsed = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises CRSError; keep the message short
        raise AnalysisInputError(f"unknown CRS {crs!r}") from exc
    if parsed.is_geographic:
        raise AnalysisInputError(f"CRS {crs} is geographic; analysis needs a projected CRS")
    return crs


def outside_area_of_use(
    lon: FloatArray, lat: FloatArray, crs: str, margin: float = 0.5
) -> npt.NDArray[np.bool_]:
    """Mask of lon/lat points outside ``crs``'s area of use (with a small margin).

    Non-finite points count as outside: that is how pyproj reports coordinates it
    could not convert, typically x/y given in the wrong CRS.

    Examples
    --------
    >>> outside_area_of_use(np.array([-123.1, 10.0]), np.array([49.3, 49.3]), "EPSG:26910")
    array([False,  True])
    """
    bounds = _area_of_use(crs)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bounds is None:
        return bad
    west, south, east, north = bounds
    inside_lat = (lat >= south - margin) & (lat <= north + margin)
    if west <= east:
        inside_lon = (lon >= west - margin) & (lon <= east + margin)
    else:  # the area crosses the antimeridian
        inside_lon = (lon >= west - margin) | (lon <= east + margin)
    return bad | ~(inside_lat & inside_lon)


def project_lonlat(
    lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str | None = None
) -> tuple[FloatArray, FloatArray, str]:
    """Project WGS84 longitude/latitude to metres.

    Parameters
    ----------
    lon, lat : array_like
        Degrees (WGS84).
    crs : str, optional
        Target projected CRS such as ``"EPSG:26910"``. When None, the UTM zone of the
        median longitude (and hemisphere of the median latitude) is used.

    Returns
    -------
    x, y : ndarray of float64
        Projected coordinates in metres.
    crs_used : str
        The CRS of ``x``/``y``.

    Raises
    ------
    AnalysisInputError
        Latitudes outside ±90, longitudes outside ±180, points outside the target
        CRS's area of use, or an unknown/geographic CRS.

    Examples
    --------
    >>> x, y, crs = project_lonlat([-123.0], [49.0])
    >>> crs, round(float(x[0])), round(float(y[0]))
    ('EPSG:32610', 500000, 5427456)
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    _check_lonlat(lon_a, lat_a, lines=None)
    if crs is None:
        if lon_a.size == 0:
            raise AnalysisInputError("no coordinates to choose a UTM zone from")
        crs = utm_crs_for(float(np.median(lon_a)), float(np.median(lat_a)))
    else:
        _check_crs(crs)
        outside = outside_area_of_use(lon_a, lat_a, crs)
        if outside.any():
            k = int(np.flatnonzero(outside)[0])
            raise AnalysisInputError(
                f"point {k} (lon {lon_a[k]:.6f}, lat {lat_a[k]:.6f}) is outside the area "
                f"of use of {crs}"
            )
    x, y = transformer("EPSG:4326", crs).transform(lon_a, lat_a)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), crs


def to_lonlat(x: npt.ArrayLike, y: npt.ArrayLike, crs: str) -> tuple[FloatArray, FloatArray]:
    """Inverse of :func:`project_lonlat`: metres in ``crs`` to WGS84 lon/lat.

    Examples
    --------
    >>> lon, lat = to_lonlat([500000.0], [5427455.0], "EPSG:32610")
    >>> round(float(lon[0]), 4), round(float(lat[0]), 4)
    (-123.0, 49.0)
    """
    lon, lat = transformer(crs, "EPSG:4326").transform(
        np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    )
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _check_lonlat(lon: FloatArray, lat: FloatArray, lines: Sequence[int] | None) -> None:
    bad = ~np.isfinite(lat) | (np.abs(lat) > 90.0) | ~np.isfinite(lon) | (np.abs(lon) > 180.0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        where = f"line {lines[k]}" if lines is not None else f"point {k}"
        raise AnalysisInputError(
            f"{where}: latitude {lat[k]} / longitude {lon[k]} is not a valid WGS84 position"
            " (latitude must be within ±90, longitude within ±180; swapped columns?)"
        )


# --------------------------------------------------------------------------- time parsing


def _days(value: dt.datetime, tz: dt.tzinfo | None) -> float:
    if value.tzinfo is None and tz is not None:
        value = value.replace(tzinfo=tz)
    if value.tzinfo is None:
        return (value - _EPOCH).total_seconds() / 86400.0
    return (value - _EPOCH_UTC).total_seconds() / 86400.0


def parse_iso(text: str) -> dt.datetime:
    """ISO 8601 date or date-time (an offset, when present, is kept); ValueError otherwise."""
    return dt.datetime.fromisoformat(text)


def parse_date_flexible(text: str) -> dt.datetime:
    """ISO date/datetime, or the US ``M/D/YYYY`` the Near Repeat Calculator writes."""
    if "/" in text:
        return dt.datetime.strptime(text, "%m/%d/%Y")
    return dt.datetime.fromisoformat(text)


def parse_month(text: str) -> dt.datetime:
    """police.uk's ``YYYY-MM`` (or any ISO date) as the first instant it names.

    >>> parse_month("2022-03")
    datetime.datetime(2022, 3, 1, 0, 0)
    """
    if len(text) == 7:  # police.uk "YYYY-MM"
        return dt.datetime.strptime(text, "%Y-%m")
    return dt.datetime.fromisoformat(text)


def time_parser(time_format: str | None) -> Callable[[str], dt.datetime]:
    """The parser for a ``time_format``: ``iso`` (default), ``date``, ``month`` or a
    :func:`~datetime.datetime.strptime` pattern. Parsers raise ValueError on bad text."""
    if time_format in (None, "", "iso"):
        return parse_iso
    if time_format == "date":
        return parse_date_flexible
    if time_format == "month":
        return parse_month
    fmt = time_format
    return lambda text: dt.datetime.strptime(text, fmt)


def _tzinfo(tz: str | None) -> dt.tzinfo | None:
    if not tz:
        return None
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise AnalysisInputError(f"unknown time zone {tz!r}") from exc


# --------------------------------------------------------------------------- row collection


class _Collector:
    """Accumulates parsed rows in compact arrays (no raw rows kept)."""

    def __init__(self, path: str, category: str | Sequence[str] | None) -> None:
        self.path = path
        self.a = array("d")  # lon or x
        self.b = array("d")  # lat or y
        self.projected = array("b")  # 1 when (a, b) are projected x/y, 0 for lon/lat
        self.t = array("d")
        self.lines = array("l")
        self.category: list[str] = []
        self.ids: list[str] = []
        self.rows_read = 0
        self.skipped: Counter[str] = Counter()
        self._keep = _category_predicate(category)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def keep_category(self, value: str) -> bool:
        if self._keep(value):
            return True
        self.skipped[SKIP_CATEGORY] += 1
        return False

    def add(
        self, line: int, a: float, b: float, projected: bool, t: float, cat: str, ident: str
    ) -> None:
        self.a.append(a)
        self.b.append(b)
        self.projected.append(1 if projected else 0)
        self.t.append(t)
        self.lines.append(line)
        self.category.append(cat)
        self.ids.append(ident or str(line))


def _category_predicate(category: str | Sequence[str] | None) -> Callable[[str], bool]:
    if category is None or (not isinstance(category, str) and len(category) == 0):
        return lambda _value: True
    if isinstance(category, str):
        needle = category.casefold()
        return lambda value: needle in value.casefold()
    wanted = {c.casefold() for c in category}
    return lambda value: value.casefold() in wanted


def filter_category(events: Events, category: str | Sequence[str]) -> Events:
    """Keep events whose category contains ``category`` (a str, case-insensitive) or
    equals one of ``category`` (a list, case-insensitive).

    Examples
    --------
    >>> ev = Events.from_arrays([0, 1, 2], [0, 0, 0], [0, 0, 0],
    ...                         category=["Theft of Vehicle", "Theft from Vehicle", "Mischief"])
    >>> len(filter_category(ev, "theft")), len(filter_category(ev, ["mischief"]))
    (2, 1)
    """
    keep = _category_predicate(category)
    return events.select(np.array([keep(str(c)) for c in events.category], dtype=bool))


def _number(text: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise AnalysisInputError(f"line {line}: {column} value {text!r} is not a number") from None
    if not math.isfinite(value):
        raise AnalysisInputError(f"line {line}: {column} value {text!r} is not finite")
    return value


def _time(
    text: str, line: int, column: str, parse: Callable[[str], dt.datetime], tz: dt.tzinfo | None
) -> float:
    try:
        return _days(parse(text), tz)
    except (ValueError, OverflowError):
        raise AnalysisInputError(
            f"line {line}: cannot read {column} value {text!r} as a date/time"
        ) from None


class Columns:
    """Header lookup by name, tolerant of case, surrounding spaces and a BOM.

    >>> c = Columns(["\ufeffID", " Primary Type "])
    >>> c.find("primary type"), c.find("Case Number", "id"), c.find("Date")
    (1, 0, None)
    """

    def __init__(self, header: list[str]) -> None:
        self.names = [h.strip().lstrip("\ufeff") for h in header]
        self._index = {name.casefold(): i for i, name in enumerate(self.names)}

    def find(self, *candidates: str) -> int | None:
        """The index of the first candidate name present, or None."""
        for name in candidates:
            i = self._index.get(name.casefold())
            if i is not None:
                return i
        return None

    def need(self, fmt: str, *candidates: str) -> int:
        """Like :meth:`find`, but a missing column is an :class:`AnalysisInputError`."""
        i = self.find(*candidates)
        if i is None:
            raise AnalysisInputError(
                f"{fmt} file has no {' / '.join(repr(c) for c in candidates)} column "
                f"(header: {', '.join(self.names)})"
            )
        return i


def _open_rows(path: Path, delimiter: str = ",") -> Generator[tuple[int, list[str]], None, None]:
    """Yield ``(line_number, row)``; line numbers are physical (1-based) file lines."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise AnalysisInputError(f"cannot open {path}: {exc.strerror}") from None
    with handle:
        reader = csv.reader(handle, delimiter=delimiter)
        start = 1
        try:
            for row in reader:
                yield start, row
                start = reader.line_num + 1
        except UnicodeDecodeError:
            raise AnalysisInputError(f"{path}: line {start} is not UTF-8 text") from None
        except csv.Error as exc:
            raise AnalysisInputError(f"{path}: line {start}: {exc}") from None


# Spellings of "no value" that open-data exports (R, pandas, SQL dumps) write.
MISSING_VALUES = frozenset({"", "na", "n/a", "nan", "null", "none"})


def clean_cell(row: list[str], index: int | None) -> str:
    """The stripped cell, or "" when absent or a conventional missing-value marker.

    >>> clean_cell([" a ", "NA"], 0), clean_cell([" a ", "NA"], 1), clean_cell(["a"], None)
    ('a', '', '')
    """
    if index is None or index >= len(row):
        return ""
    value = row[index].strip()
    return "" if value.casefold() in MISSING_VALUES else value


# --------------------------------------------------------------------------- format readers


@dataclass
class _Mapping:
    """Column indices and parsing rules for one delimited format."""

    time: int
    parse: Callable[[str], dt.datetime]
    tz: dt.tzinfo | None
    ident: int | None = None
    category: int | None = None
    lon: int | None = None
    lat: int | None = None
    x: int | None = None
    y: int | None = None
    time_name: str = "time"
    # Projected x/y are used only when a CRS for them is known.
    use_xy: bool = False
    # VPD writes X = Y = 0 for suppressed locations.
    zero_is_suppressed: bool = False
    # CRS of x/y when they are only a fallback converted to lon/lat (Chicago feet).
    xy_fallback_crs: str | None = None


def _read_mapped(rows: Iterable[tuple[int, list[str]]], m: _Mapping, col: _Collector) -> None:
    for line, row in rows:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        col.rows_read += 1
        cat = clean_cell(row, m.category)
        if not col.keep_category(cat):
            continue
        a = b = math.nan
        projected = False
        xs, ys = clean_cell(row, m.x), clean_cell(row, m.y)
        lons, lats = clean_cell(row, m.lon), clean_cell(row, m.lat)
        if m.use_xy and xs and ys:
            a, b = _number(xs, line, "x"), _number(ys, line, "y")
            projected = True
            if m.zero_is_suppressed and a == 0.0 and b == 0.0:
                col.skip(SKIP_SUPPRESSED)
                continue
        elif lons and lats:
            a, b = _number(lons, line, "longitude"), _number(lats, line, "latitude")
        elif m.xy_fallback_crs is not None and xs and ys:
            fx, fy = _number(xs, line, "x"), _number(ys, line, "y")
            lon_a, lat_a = to_lonlat([fx], [fy], m.xy_fallback_crs)
            a, b = float(lon_a[0]), float(lat_a[0])
        else:
            col.skip(SKIP_MISSING_COORDS)
            continue
        ts = clean_cell(row, m.time)
        if not ts:
            col.skip(SKIP_MISSING_TIME)
            continue
        t = _time(ts, line, m.time_name, m.parse, m.tz)
        col.add(line, a, b, projected, t, cat, clean_cell(row, m.ident))


def _header(rows: Iterator[tuple[int, list[str]]], path: Path) -> Columns:
    for _line, row in rows:
        if row and any(c.strip() for c in row):
            return Columns(row)
    raise AnalysisInputError(f"{path} is empty (no header row)")


def _read_beacon(path: Path, col: _Collector, crs: str | None, tz: dt.tzinfo | None) -> None:
    rows = _open_rows(path)
    c = _header(rows, path)
    m = _Mapping(
        time=c.need("beacon", "occurred_at"),
        time_name="occurred_at",
        parse=parse_iso,
        tz=tz,
        ident=c.find("id"),
        category=c.find("category"),
        lat=c.need("beacon", "lat"),
        lon=c.need("beacon", "lon"),
        x=c.find("x"),
        y=c.find("y"),
        use_xy=crs is not None,
    )
    _read_mapped(rows, m, col)


def _read_vancouver(path: Path, col: _Collector, tz: dt.tzinfo | None) -> None:
    rows = _open_rows(path)
    c = _header(rows, path)
    idx = {k: c.need("vancouver", k) for k in ("TYPE", "YEAR", "MONTH", "DAY", "X", "Y")}
    hour, minute = c.find("HOUR"), c.find("MINUTE")
    for line, row in rows:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        col.rows_read += 1
        if len(row) <= max(idx.values()):
            col.skip(SKIP_SHORT_ROW)
            continue
        cat = row[idx["TYPE"]].strip()
        if not col.keep_category(cat):
            continue
        xs, ys = clean_cell(row, idx["X"]), clean_cell(row, idx["Y"])
        if not xs or not ys:
            col.skip(SKIP_MISSING_COORDS)
            continue
        x, y = _number(xs, line, "X"), _number(ys, line, "Y")
        if x == 0.0 and y == 0.0:
            col.skip(SKIP_SUPPRESSED)
            continue
        parts = [row[idx[k]].strip() for k in ("YEAR", "MONTH", "DAY")]
        parts += [clean_cell(row, hour) or "0", clean_cell(row, minute) or "0"]
        try:
            when = parse_vancouver_time(*parts)
        except ValueError:
            raise AnalysisInputError(
                f"line {line}: cannot read YEAR/MONTH/DAY/HOUR/MINUTE {'/'.join(parts)!r} "
                "as a date/time"
            ) from None
        # VPD rows have no id; the line number is stable for a given file.
        col.add(line, x, y, True, _days(when, tz), cat, str(line))


def parse_vancouver_time(
    year: str, month: str, day: str, hour: str = "", minute: str = ""
) -> dt.datetime:
    """VPD's ``YEAR/MONTH/DAY/HOUR/MINUTE`` cells as a naive wall-clock time.

    Cells may be written as decimals (``2020.0``) or padded; an empty hour or minute is
    0. Raises ValueError when the parts are not numbers or not a real date and time.

    >>> parse_vancouver_time("2020", "6.0", " 19", "3", "")
    datetime.datetime(2020, 6, 19, 3, 0)
    """
    try:
        return dt.datetime(
            int(float(year)),
            int(float(month)),
            int(float(day)),
            int(float(hour or 0)),
            int(float(minute or 0)),
        )
    except OverflowError:  # int(float("inf"))
        raise ValueError("not a finite number") from None


def _read_policeuk(path: Path, col: _Collector, tz: dt.tzinfo | None) -> None:
    rows = _open_rows(path)
    c = _header(rows, path)
    m = _Mapping(
        time=c.need("policeuk", "Month"),
        time_name="Month",
        parse=parse_month,
        tz=tz,
        ident=c.find("Crime ID"),
        category=c.find("Crime type"),
        lon=c.need("policeuk", "Longitude"),
        lat=c.need("policeuk", "Latitude"),
    )
    _read_mapped(rows, m, col)


def parse_chicago_time(text: str) -> dt.datetime:
    """The Chicago data portal's ``MM/DD/YYYY hh:mm:ss AM/PM``; ValueError otherwise.

    >>> parse_chicago_time("04/27/2016 01:44:00 PM")
    datetime.datetime(2016, 4, 27, 13, 44)
    """
    return dt.datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p")


def _read_chicago(path: Path, col: _Collector, tz: dt.tzinfo | None) -> None:
    rows = _open_rows(path)
    c = _header(rows, path)
    m = _Mapping(
        time=c.need("chicago", "Date"),
        time_name="Date",
        parse=parse_chicago_time,
        tz=tz,
        ident=c.find("Case Number", "ID"),
        category=c.find("Primary Type"),
        lon=c.need("chicago", "Longitude"),
        lat=c.need("chicago", "Latitude"),
        x=c.find("X Coordinate"),
        y=c.find("Y Coordinate"),
        # Illinois East State Plane, US survey feet: the portal's X/Y Coordinate.
        xy_fallback_crs="EPSG:3435",
    )
    _read_mapped(rows, m, col)


def _read_nearrepeat(path: Path, col: _Collector, tz: dt.tzinfo | None) -> None:
    rows = _open_rows(path)
    first = True
    for line, row in rows:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if first:
            first = False
            # The calculator's files have no header; tolerate one anyway.
            try:
                float(row[0])
            except (ValueError, IndexError):
                continue
        col.rows_read += 1
        if len(row) < 3:
            col.skip(SKIP_SHORT_ROW)
            continue
        xs, ys, ts = clean_cell(row, 0), clean_cell(row, 1), clean_cell(row, 2)
        if not xs or not ys:
            col.skip(SKIP_MISSING_COORDS)
            continue
        if not ts:
            col.skip(SKIP_MISSING_TIME)
            continue
        x, y = _number(xs, line, "X"), _number(ys, line, "Y")
        t = _time(ts, line, "date", parse_date_flexible, tz)
        col.add(line, x, y, True, t, "", str(line))


def _read_crimedata(path: Path, col: _Collector, tz: dt.tzinfo | None) -> None:
    rows = _open_rows(path)
    c = _header(rows, path)
    time_idx = c.need("crimedata", "offense_date", "date_time", "date", "month")
    m = _Mapping(
        time=time_idx,
        time_name=c.names[time_idx],
        parse=parse_month if c.names[time_idx].casefold() == "month" else parse_iso,
        tz=tz,
        ident=c.find("uid", "incident_no", "id"),
        category=c.find("offense", "offense_type", "category"),
        lon=c.need("crimedata", "longitude"),
        lat=c.need("crimedata", "latitude"),
    )
    _read_mapped(rows, m, col)


def _read_generic(
    path: Path, col: _Collector, crs: str | None, tz: dt.tzinfo | None, options: dict[str, Any]
) -> None:
    allowed = {"id", "time", "category_column", "lat", "lon", "x", "y", "time_format", "delimiter"}
    unknown = set(options) - allowed
    if unknown:
        raise AnalysisInputError(f"unknown generic option(s): {', '.join(sorted(unknown))}")
    if "time" not in options:
        raise AnalysisInputError("generic format needs time=<column>")
    rows = _open_rows(path, delimiter=str(options.get("delimiter", ",")))
    c = _header(rows, path)
    has_xy = "x" in options or "y" in options
    has_ll = "lat" in options or "lon" in options
    if has_xy == has_ll:
        raise AnalysisInputError("generic format needs either lat= and lon= or x= and y= columns")
    if has_xy and crs is None:
        raise AnalysisInputError("projected x/y columns need their CRS (crs='EPSG:NNNN')")

    def need(key: str) -> int:
        return c.need("generic", str(options[key]))

    m = _Mapping(
        time=need("time"),
        time_name=str(options["time"]),
        parse=time_parser(options.get("time_format")),
        tz=tz,
        ident=need("id") if "id" in options else None,
        category=need("category_column") if "category_column" in options else None,
        lon=need("lon") if has_ll else None,
        lat=need("lat") if has_ll else None,
        x=need("x") if has_xy else None,
        y=need("y") if has_xy else None,
        use_xy=has_xy,
    )
    _read_mapped(rows, m, col)


def detect_format(path: str | Path) -> str:
    """Guess the format of ``path`` from its first line.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
    ...     _ = f.write("incident_no,offense_date,offense,longitude,latitude\\n")
    >>> detect_format(f.name)
    'crimedata'
    >>> os.unlink(f.name)
    """
    rows = _open_rows(Path(path))
    try:
        _line, row = next(rows)
    except StopIteration:
        raise AnalysisInputError(f"{path} is empty") from None
    finally:
        rows.close()
    names = {c.strip().lstrip("\ufeff").casefold() for c in row}
    if {"occurred_at", "lat", "lon"} <= names:
        return "beacon"
    if {"type", "year", "month", "day", "x", "y"} <= names:
        return "vancouver"
    if {"crime id", "month", "longitude", "latitude"} <= names:
        return "policeuk"
    if {"date", "primary type"} <= names and ({"case number", "id"} & names):
        return "chicago"
    if {"longitude", "latitude"} <= names and ({"offense_date", "date_time", "month"} & names):
        return "crimedata"
    if len(row) >= 3:
        try:
            float(row[0])
            float(row[1])
        except ValueError:
            pass
        else:
            return "nearrepeat"
    raise AnalysisInputError(
        f"cannot tell the format of {path} from its header; pass a format "
        f"({', '.join(f for f in FORMATS if f != 'auto')})"
    )


_DEFAULT_INPUT_CRS = {"vancouver": "EPSG:26910"}


def read_events(
    path: str | Path,
    fmt: str = "beacon",
    crs: str | None = None,
    category: str | Sequence[str] | None = None,
    **generic_options: Any,
) -> tuple[Events, ReadReport]:
    """Read an event file for analysis.

    Parameters
    ----------
    path : str or Path
        The file (UTF-8, comma separated unless ``delimiter`` is given).
    fmt : str
        One of :data:`FORMATS` (see the module docstring).
    crs : str, optional
        For lat/lon inputs: the projected CRS to project into (default: UTM zone of
        the median longitude). For projected inputs (``x``/``y``, Vancouver,
        Near Repeat): the CRS the coordinates are in (Vancouver defaults to
        EPSG:26910; Near Repeat input may stay None, meaning "metres, CRS unknown").
    category : str or sequence of str, optional
        A string keeps categories containing it (case-insensitive); a list keeps
        categories equal to one of its items (case-insensitive).
    **generic_options
        ``tz``: IANA zone of wall-clock times without an offset (all formats).
        For ``fmt="generic"``: ``time`` (required), ``id``, ``category_column``,
        ``lat`` and ``lon`` or ``x`` and ``y`` (column names; ``category`` is the
        filter above, hence ``category_column``), ``time_format`` (``"iso"``
        (default), ``"date"``, ``"month"`` or a :func:`~datetime.datetime.strptime`
        pattern) and ``delimiter``.

    Returns
    -------
    events : Events
        Coordinates in metres in ``report.crs``; times in days since the epoch.
    report : ReadReport
        Rows read, used and skipped by reason, and the CRS of the coordinates.

    Raises
    ------
    AnalysisInputError
        Unreadable file, missing columns, an unparseable date or number (with its
        line number and value), or coordinates that do not fit the CRS.

    Examples
    --------
    >>> import tempfile, os
    >>> text = ("id,occurred_at,category,lat,lon\\n"
    ...         "a,2024-03-01T22:15:00Z,Burglary,49.2827,-123.1207\\n"
    ...         "b,2024-03-02T08:00:00Z,Theft,49.2830,-123.1210\\n"
    ...         "c,2024-03-02T09:00:00Z,Theft,,\\n")
    >>> with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
    ...     _ = f.write(text)
    >>> events, report = read_events(f.name)
    >>> len(events), report.crs, report.skipped
    (2, 'EPSG:32610', {'missing coordinates': 1})
    >>> round(float(events.t[0]), 4)
    19783.9271
    >>> os.unlink(f.name)
    """
    path = Path(path)
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise AnalysisInputError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = detect_format(path)
    if crs is not None:
        _check_crs(crs)
    options = dict(generic_options)
    tz = _tzinfo(options.pop("tz", None))
    if fmt != "generic" and options:
        raise AnalysisInputError(
            f"option(s) {', '.join(sorted(options))} only apply to the generic format"
        )
    col = _Collector(str(path), category)
    input_crs = crs if crs is not None else _DEFAULT_INPUT_CRS.get(fmt)
    if fmt == "beacon":
        _read_beacon(path, col, crs, tz)
    elif fmt == "vancouver":
        _read_vancouver(path, col, tz)
    elif fmt == "policeuk":
        _read_policeuk(path, col, tz)
    elif fmt == "chicago":
        _read_chicago(path, col, tz)
    elif fmt == "nearrepeat":
        _read_nearrepeat(path, col, tz)
    elif fmt in ("crimedata", "cincinnati"):
        _read_crimedata(path, col, tz)
    else:
        _read_generic(path, col, crs, tz, options)
    return _finish(col, fmt, input_crs)


def _finish(col: _Collector, fmt: str, crs: str | None) -> tuple[Events, ReadReport]:
    a = np.array(col.a, dtype=np.float64)
    b = np.array(col.b, dtype=np.float64)
    projected = np.array(col.projected, dtype=bool)
    lines = np.array(col.lines, dtype=np.int64)
    x = np.empty_like(a)
    y = np.empty_like(b)
    crs_used = crs
    if projected.any():
        if crs is not None:
            # Check projected inputs against the declared CRS by going back to lon/lat.
            lon, lat = to_lonlat(a[projected], b[projected], crs)
            outside = outside_area_of_use(lon, lat, crs)
            if outside.any():
                k = int(np.flatnonzero(outside)[0])
                line = int(lines[projected][k])
                raise AnalysisInputError(
                    f"line {line}: x {a[projected][k]} / y {b[projected][k]} does not fit "
                    f"{crs} (outside its area of use; wrong --crs?)"
                )
        x[projected] = a[projected]
        y[projected] = b[projected]
    ll = ~projected
    if ll.any():
        lon, lat = a[ll], b[ll]
        _check_lonlat(lon, lat, lines=[int(v) for v in lines[ll]])
        if crs is not None:
            outside = outside_area_of_use(lon, lat, crs)
            if outside.any():
                k = int(np.flatnonzero(outside)[0])
                raise AnalysisInputError(
                    f"line {int(lines[ll][k])}: longitude {lon[k]} / latitude {lat[k]} is "
                    f"outside the area of use of {crs}"
                )
        px, py, crs_used = project_lonlat(lon, lat, crs)
        x[ll] = px
        y[ll] = py
    events = Events(
        x=x,
        y=y,
        t=np.array(col.t, dtype=np.float64),
        category=np.asarray(col.category, dtype=str),
        ids=np.asarray(col.ids, dtype=str),
    )
    report = ReadReport(
        path=col.path,
        fmt=fmt,
        crs=crs_used,
        rows_read=col.rows_read,
        rows_used=len(events),
        skipped=dict(col.skipped),
    )
    return events, report
