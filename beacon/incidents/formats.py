"""Import profiles: stream incident files row by row into :class:`SourceRow` records.

Pure Python (no Django): the importer, tests and benchmarks use it directly. Files are
read as a stream in batches, so memory stays bounded whatever the file size; every row
keeps its physical line number, and a row that cannot be used becomes a
:class:`RowError` with that line number and the reason, never an exception.

Profiles
--------
``beacon``     ``id,occurred_at,category,lat,lon`` and optionally ``block``, ``x``, ``y``
               (projected, with ``crs``), ``occurred_to``, ``reported_at``,
               ``neighbourhood``, ``outcome``.
``vancouver``  VPD open data (``TYPE,YEAR,MONTH,DAY,HOUR,MINUTE,HUNDRED_BLOCK,
               NEIGHBOURHOOD,X,Y``; X/Y in EPSG:26910). ``X = Y = 0`` is a location
               VPD suppressed; 00:00 is "time not given" (the row covers the day).
``policeuk``   police.uk street-level CSV. ``Month`` becomes a one-month range; the
               coordinates are police.uk snap points; ``Crime ID`` is empty for
               anti-social behaviour, which then gets a content key.
``chicago``    City of Chicago data portal (``Case Number``/``ID``, ``Date``, ``Block``,
               ``Primary Type``, ``Latitude``/``Longitude`` or ``X/Y Coordinate`` in
               EPSG:3435; ``Domestic`` and ``Description`` when present).
``generic``    any delimited file; ``mapping`` names the columns (keys ``id``, ``time``,
               ``time_to``, ``reported``, ``category``, ``lat``, ``lon``, ``x``, ``y``,
               ``block``, ``neighbourhood``, ``outcome``, ``domestic``) and
               ``time_format`` (``iso``, ``date``, ``month`` or a strptime pattern).

Rows without an id get a stable key from their content and their occurrence number
among identical rows, so re-importing the same file finds the same rows again.

Low-level helpers (cell clean-up, header look-up, date parsing, projection) come from
:mod:`beacon.analytics.io`, which reads the same files for analysis.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from beacon.analytics.io import (
    _MISSING,
    _cell,
    _Columns,
    _outside_area,
    _parse_chicago,
    _parse_month,
    _transformer,
)

__all__ = [
    "FORMATS",
    "GENERIC_KEYS",
    "FormatError",
    "IncidentReader",
    "RowError",
    "SourceRow",
]

FORMATS = ("beacon", "vancouver", "policeuk", "chicago", "generic")
GENERIC_KEYS = frozenset(
    {
        "id",
        "time",
        "time_to",
        "reported",
        "category",
        "lat",
        "lon",
        "x",
        "y",
        "block",
        "neighbourhood",
        "outcome",
        "domestic",
    }
)
MAPPED, SUPPRESSED, MISSING = "mapped", "suppressed", "missing"
_DEFAULT_CRS = {"vancouver": "EPSG:26910"}
_CHICAGO_FEET = "EPSG:3435"
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_DAY = dt.timedelta(days=1)


class FormatError(ValueError):
    """The file as a whole cannot be read (missing column, bad option, not UTF-8)."""


class _Reject(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass(slots=True)
class SourceRow:
    """One usable row: an incident as the source describes it."""

    line: int
    external_id: str
    occurred_from: dt.datetime  # aware
    occurred_to: dt.datetime | None  # aware, exclusive end of a range
    local: dt.datetime  # naive wall-clock start in the community's zone
    time_known: bool
    category: str
    lat: float | None = None
    lon: float | None = None
    location: str = MISSING
    block: str = ""
    neighbourhood: str = ""
    outcome: str = ""
    reported_at: dt.datetime | None = None
    domestic: bool = False
    detail: str = ""  # a secondary description checked for sensitive words
    # A digest of the raw row: the source content, for change detection.
    digest: bytes = b""
    # Projected coordinates waiting for the batch projection.
    x: float | None = None
    y: float | None = None
    crs: str | None = None


@dataclass(slots=True, frozen=True)
class RowError:
    """A row that was not imported: its physical line number and why."""

    line: int
    reason: str


@dataclass
class _Profile:
    parse: Callable[[list[str], int], SourceRow]
    content_keyed: bool


@dataclass
class IncidentReader:
    """Stream a file in one of :data:`FORMATS`.

    ``tz`` is the IANA zone of wall-clock times without an offset (the community's).
    ``crs`` declares projected coordinates (required for x/y in ``beacon`` and
    ``generic``; VPD files default to EPSG:26910). Iterate :meth:`batches`;
    :attr:`bytes_read` and :attr:`total_bytes` drive progress bars.
    """

    path: Path
    fmt: str
    tz: str = "UTC"
    crs: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    time_format: str = "iso"
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    rows_read: int = 0

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.fmt not in FORMATS:
            raise FormatError(f"unknown format {self.fmt!r}; choose from {', '.join(FORMATS)}")
        try:
            self.zone = zoneinfo.ZoneInfo(self.tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise FormatError(f"unknown time zone {self.tz!r}") from None
        if self.crs is not None:
            from pyproj import CRS

            try:
                parsed = CRS.from_user_input(self.crs)
            except Exception:  # pyproj raises its own CRSError
                raise FormatError(f"unknown CRS {self.crs!r}") from None
            if parsed.is_geographic:
                raise FormatError(f"{self.crs} is geographic; --crs is for projected x/y")
        if self.fmt != "generic" and self.mapping:
            raise FormatError("column mappings only apply to the generic format")
        unknown = set(self.mapping) - GENERIC_KEYS
        if unknown:
            raise FormatError(
                f"unknown column mapping key(s) {', '.join(sorted(unknown))}; "
                f"use {', '.join(sorted(GENERIC_KEYS))}"
            )
        try:
            self.total_bytes = self.path.stat().st_size
        except OSError as exc:
            raise FormatError(f"cannot open {self.path}: {exc.strerror}") from None
        self._raw: Any = None
        self._seen_keys: set[int] = set()
        self._repeats: dict[int, int] = {}
        self._seen_ids: dict[str, int] = {}

    @property
    def bytes_read(self) -> int:
        """How far into the file the reader is (read-ahead included)."""
        if self._raw is None or self._raw.closed:
            return self.total_bytes if self.rows_read else 0
        return int(self._raw.tell())

    # ------------------------------------------------------------------ reading

    def _rows(self) -> Iterator[tuple[int, list[str] | None, str]]:
        """Yield ``(line, row, error)``; a csv error gives ``row=None`` and the message."""
        try:
            raw = self.path.open("rb")
        except OSError as exc:
            raise FormatError(f"cannot open {self.path}: {exc.strerror}") from None
        self._raw = raw
        text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
        reader = csv.reader(text, delimiter=self.delimiter)
        start = 1
        with text:
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError:
                    raise FormatError(
                        f"line {start} is not {self.encoding} text; pass the file's encoding"
                    ) from None
                except csv.Error as exc:
                    yield start, None, f"unreadable CSV ({exc})"
                    start = reader.line_num + 1
                    continue
                yield start, row, ""
                start = reader.line_num + 1

    def batches(self, size: int = 5000) -> Iterator[list[SourceRow | RowError]]:
        """Yield the rows in batches of about ``size``, projected and checked."""
        rows = self._rows()
        header: _Columns | None = None
        for line, row, error in rows:
            if row is None:
                raise FormatError(f"line {line}: the header row is unreadable ({error})")
            if row and any(c.strip() for c in row):
                header = _Columns(row)
                break
        if header is None:
            raise FormatError(f"{self.path} is empty (no header row)")
        profile = self._profile(header)
        width = len(header.names)
        batch: list[SourceRow | RowError] = []
        for line, row, error in rows:
            if row is None:
                self.rows_read += 1
                batch.append(RowError(line, error))
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            self.rows_read += 1
            if len(row) != width:
                batch.append(
                    RowError(line, f"expected {width} columns as in the header, found {len(row)}")
                )
                continue
            try:
                parsed = profile.parse(row, line)
                digest = hashlib.blake2b("\x1f".join(row).encode("utf-8"), digest_size=10).digest()
                parsed.digest = digest
                if profile.content_keyed or not parsed.external_id:
                    parsed.external_id = self._content_key(digest)
                elif not self._first_id(parsed.external_id, line):
                    first = self._seen_ids[parsed.external_id]
                    raise _Reject(
                        f"id {parsed.external_id!r} appears again (first on line {first})"
                    )
            except _Reject as exc:
                batch.append(RowError(line, exc.reason))
                continue
            batch.append(parsed)
            if len(batch) >= size:
                yield self._project(batch)
                batch = []
        if batch:
            yield self._project(batch)

    def _first_id(self, ident: str, line: int) -> bool:
        if ident in self._seen_ids:
            return False
        self._seen_ids[ident] = line
        return True

    def _content_key(self, digest: bytes) -> str:
        """A key from the row's content digest and its occurrence among identical rows."""
        # 8 bytes of it in a set keep memory at a few tens of bytes per row.
        short = int.from_bytes(digest[:8], "big")
        if short in self._seen_keys:
            occurrence = self._repeats.get(short, 1) + 1
            self._repeats[short] = occurrence
        else:
            self._seen_keys.add(short)
            occurrence = 1
        return f"k{digest.hex()}-{occurrence}"

    def _project(self, batch: list[SourceRow | RowError]) -> list[SourceRow | RowError]:
        """Convert projected x/y to lat/lon for the whole batch at once (pyproj)."""
        by_crs: dict[str, list[int]] = {}
        for index, item in enumerate(batch):
            if isinstance(item, SourceRow) and item.x is not None and item.crs is not None:
                by_crs.setdefault(item.crs, []).append(index)
        for crs, indices in by_crs.items():
            xs = np.array([batch[i].x for i in indices], dtype=np.float64)  # type: ignore[union-attr]
            ys = np.array([batch[i].y for i in indices], dtype=np.float64)  # type: ignore[union-attr]
            lon, lat = _transformer(crs, "EPSG:4326").transform(xs, ys)
            lon = np.asarray(lon, dtype=np.float64)
            lat = np.asarray(lat, dtype=np.float64)
            outside = _outside_area(lon, lat, crs)
            for j, i in enumerate(indices):
                item = batch[i]
                assert isinstance(item, SourceRow)
                if outside[j]:
                    batch[i] = RowError(
                        item.line,
                        f"x {item.x} / y {item.y} does not fit {crs} (outside its area of use; "
                        "wrong --crs?)",
                    )
                    continue
                item.lat, item.lon = round(float(lat[j]), 7), round(float(lon[j]), 7)
                item.location = MAPPED
                item.x = item.y = None
        return batch

    # ------------------------------------------------------------------ profiles

    def _profile(self, c: _Columns) -> _Profile:
        return {
            "beacon": self._beacon,
            "vancouver": self._vancouver,
            "policeuk": self._policeuk,
            "chicago": self._chicago,
            "generic": self._generic,
        }[self.fmt](c)

    def _need(self, c: _Columns, *names: str) -> int:
        index = c.find(*names)
        if index is None:
            raise FormatError(
                f"{self.fmt} file has no {' / '.join(repr(n) for n in names)} column "
                f"(header: {', '.join(c.names)})"
            )
        return index

    def _vancouver(self, c: _Columns) -> _Profile:
        idx = [self._need(c, k) for k in ("TYPE", "YEAR", "MONTH", "DAY", "X", "Y")]
        t_type, t_year, t_month, t_day, t_x, t_y = idx
        t_hour, t_minute = c.find("HOUR"), c.find("MINUTE")
        t_block, t_hood = c.find("HUNDRED_BLOCK"), c.find("NEIGHBOURHOOD")
        crs = self.crs or _DEFAULT_CRS["vancouver"]
        zone = self.zone

        def parse(row: list[str], line: int) -> SourceRow:
            # The hot path of the largest files: plain indexing (the row width was
            # checked against the header) instead of the general cell helper.
            try:
                local = dt.datetime(
                    int(row[t_year]),
                    int(row[t_month]),
                    int(row[t_day]),
                    int(row[t_hour] or 0) if t_hour is not None else 0,
                    int(row[t_minute] or 0) if t_minute is not None else 0,
                )
            except ValueError:
                local = _vancouver_time_slow(row, (t_year, t_month, t_day, t_hour, t_minute))
            # VPD writes 00:00 where it gives no time (and for every suppressed row).
            known = bool(local.hour or local.minute)
            result = SourceRow(
                line,
                "",
                local.replace(tzinfo=zone),
                None if known else (local + _DAY).replace(tzinfo=zone),
                local,
                known,
                row[t_type].strip(),
                block=row[t_block].strip() if t_block is not None else "",
                neighbourhood=row[t_hood].strip() if t_hood is not None else "",
            )
            xs, ys = row[t_x].strip(), row[t_y].strip()
            if xs and ys and xs.casefold() not in _MISSING and ys.casefold() not in _MISSING:
                x, y = _number(xs, "X"), _number(ys, "Y")
                if x == 0.0 and y == 0.0:
                    result.location = SUPPRESSED
                    result.block = ""  # "OFFSET TO PROTECT PRIVACY" is not an address
                else:
                    result.x, result.y, result.crs = x, y, crs
            return result

        return _Profile(parse, content_keyed=True)

    def _policeuk(self, c: _Columns) -> _Profile:
        t_month = self._need(c, "Month")
        t_type = self._need(c, "Crime type")
        t_lon, t_lat = self._need(c, "Longitude"), self._need(c, "Latitude")
        t_id, t_loc = c.find("Crime ID"), c.find("Location")
        t_lsoa, t_outcome = c.find("LSOA name"), c.find("Last outcome category")
        zone = self.zone

        def parse(row: list[str], line: int) -> SourceRow:
            text = _cell(row, t_month)
            try:
                local = _parse_month(text)
            except ValueError:
                raise _Reject(f"cannot read Month {text!r} as YYYY-MM") from None
            local = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            end = _next_month(local)
            location = _cell(row, t_loc)
            result = SourceRow(
                line=line,
                external_id=_cell(row, t_id),
                occurred_from=local.replace(tzinfo=zone),
                occurred_to=end.replace(tzinfo=zone),
                local=local,
                time_known=False,
                category=_cell(row, t_type),
                block="" if location.casefold() == "no location" else location,
                neighbourhood=_cell(row, t_lsoa),
                outcome=_cell(row, t_outcome),
            )
            _set_lonlat(result, _cell(row, t_lon), _cell(row, t_lat))
            return result

        return _Profile(parse, content_keyed=False)

    def _chicago(self, c: _Columns) -> _Profile:
        t_date = self._need(c, "Date")
        t_type = self._need(c, "Primary Type")
        t_id = self._need(c, "Case Number", "ID")
        t_lat, t_lon = c.find("Latitude"), c.find("Longitude")
        t_x, t_y = c.find("X Coordinate"), c.find("Y Coordinate")
        if t_lat is None and t_x is None:
            raise FormatError("chicago file has neither Latitude/Longitude nor X/Y Coordinate")
        t_block, t_domestic = c.find("Block"), c.find("Domestic")
        t_desc, t_area = c.find("Description"), c.find("Community Area")
        zone = self.zone

        def parse(row: list[str], line: int) -> SourceRow:
            text = _cell(row, t_date)
            try:
                local = _parse_chicago(text)
            except ValueError:
                raise _Reject(f"cannot read Date {text!r} as MM/DD/YYYY hh:mm:ss AM/PM") from None
            result = SourceRow(
                line=line,
                external_id=_cell(row, t_id),
                occurred_from=local.replace(tzinfo=zone),
                occurred_to=None,
                local=local,
                time_known=True,
                category=_cell(row, t_type),
                block=_cell(row, t_block),
                neighbourhood=_cell(row, t_area),
                domestic=_cell(row, t_domestic).casefold() in _TRUE,
                detail=_cell(row, t_desc),
            )
            lats, lons = _cell(row, t_lat), _cell(row, t_lon)
            if lats and lons:
                _set_lonlat(result, lons, lats)
            else:
                xs, ys = _cell(row, t_x), _cell(row, t_y)
                if xs and ys:
                    result.x, result.y = _number(xs, "X Coordinate"), _number(ys, "Y Coordinate")
                    result.crs = _CHICAGO_FEET
            return result

        return _Profile(parse, content_keyed=False)

    def _beacon(self, c: _Columns) -> _Profile:
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
        if self.crs is None:
            mapping.pop("x", None)
            mapping.pop("y", None)
        return self._mapped(c, mapping, "iso", require_id=True)

    def _generic(self, c: _Columns) -> _Profile:
        if "time" not in self.mapping or "category" not in self.mapping:
            raise FormatError("the generic format needs at least time=COLUMN and category=COLUMN")
        has_xy = "x" in self.mapping or "y" in self.mapping
        has_ll = "lat" in self.mapping or "lon" in self.mapping
        if not (has_xy or has_ll):
            raise FormatError("the generic format needs lat= and lon= or x= and y= columns")
        if has_xy and self.crs is None:
            raise FormatError("projected x/y columns need their CRS (--crs EPSG:NNNN)")
        return self._mapped(c, dict(self.mapping), self.time_format, require_id=False)

    def _mapped(
        self, c: _Columns, mapping: dict[str, str], time_format: str, *, require_id: bool
    ) -> _Profile:
        index = {key: self._need(c, column) for key, column in mapping.items()}
        for pair in (("lat", "lon"), ("x", "y")):
            if (pair[0] in index) != (pair[1] in index):
                raise FormatError(f"map both {pair[0]} and {pair[1]} columns, or neither")
        if require_id and "id" not in index:
            raise FormatError("beacon file has no 'id' column")
        parse_time = _time_parser(time_format)
        zone, crs = self.zone, self.crs
        t_time = index["time"]
        t_to, t_rep = index.get("time_to"), index.get("reported")
        t_id, t_cat = index.get("id"), index.get("category")
        t_lat, t_lon, t_x, t_y = (index.get(k) for k in ("lat", "lon", "x", "y"))
        t_block, t_hood = index.get("block"), index.get("neighbourhood")
        t_outcome, t_dom = index.get("outcome"), index.get("domestic")
        time_name = mapping["time"]

        def when(row: list[str], column: int | None, name: str) -> tuple[dt.datetime, bool] | None:
            text = _cell(row, column)
            if not text:
                return None
            try:
                value, has_time = parse_time(text)
            except (ValueError, OverflowError):
                raise _Reject(f"cannot read {name} {text!r} as a date/time") from None
            if value.tzinfo is None:
                value = value.replace(tzinfo=zone)
            return value, has_time

        def parse(row: list[str], line: int) -> SourceRow:
            start = when(row, t_time, time_name)
            if start is None:
                raise _Reject(f"{time_name} is empty")
            occurred, known = start
            end_pair = when(row, t_to, mapping.get("time_to", ""))
            end = end_pair[0] if end_pair else None
            if end is None and not known:
                unit = time_format if time_format in ("month",) else "date"
                local_start = occurred.astimezone(zone).replace(tzinfo=None)
                end = (
                    _next_month(local_start)
                    if unit == "month"
                    else local_start + dt.timedelta(days=1)
                ).replace(tzinfo=zone)
            if end is not None and end < occurred:
                raise _Reject("the occurrence range ends before it starts")
            reported = when(row, t_rep, mapping.get("reported", ""))
            result = SourceRow(
                line=line,
                external_id=_cell(row, t_id),
                occurred_from=occurred,
                occurred_to=end,
                local=occurred.astimezone(zone).replace(tzinfo=None),
                time_known=known and end is None,
                category=_cell(row, t_cat),
                block=_cell(row, t_block),
                neighbourhood=_cell(row, t_hood),
                outcome=_cell(row, t_outcome),
                reported_at=reported[0] if reported else None,
                domestic=_cell(row, t_dom).casefold() in _TRUE,
            )
            if require_id and not result.external_id:
                raise _Reject("id is empty")
            xs, ys = _cell(row, t_x), _cell(row, t_y)
            if t_x is not None and xs and ys:
                x, y = _number(xs, "x"), _number(ys, "y")
                if not (x == 0.0 and y == 0.0):
                    result.x, result.y, result.crs = x, y, crs
                    return result
            if t_lat is not None:
                _set_lonlat(result, _cell(row, t_lon), _cell(row, t_lat))
            return result

        return _Profile(parse, content_keyed=t_id is None)


def _vancouver_time_slow(row: list[str], columns: tuple[int | None, ...]) -> dt.datetime:
    parts = [_cell(row, i) for i in columns]
    try:
        year, month, day = (int(float(p)) for p in parts[:3])
        return dt.datetime(year, month, day, int(float(parts[3] or 0)), int(float(parts[4] or 0)))
    except ValueError:
        raise _Reject(
            f"cannot read YEAR/MONTH/DAY/HOUR/MINUTE {'/'.join(parts)!r} as a date/time"
        ) from None


def _number(text: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _Reject(f"{column} value {text!r} is not a number") from None
    if not math.isfinite(value):
        raise _Reject(f"{column} value {text!r} is not finite")
    return value


def _set_lonlat(row: SourceRow, lons: str, lats: str) -> None:
    if not lons or not lats:
        return  # no location: kept as an unmapped incident
    lon, lat = _number(lons, "longitude"), _number(lats, "latitude")
    if lat == 0.0 and lon == 0.0:
        return  # "0, 0" is how many exports write an unknown location
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise _Reject(
            f"latitude {lat} / longitude {lon} is not a WGS84 position (swapped columns?)"
        )
    row.lat, row.lon, row.location = lat, lon, MAPPED


def _next_month(value: dt.datetime) -> dt.datetime:
    if value.month == 12:
        return value.replace(year=value.year + 1, month=1)
    return value.replace(month=value.month + 1)


def _time_parser(time_format: str) -> Callable[[str], tuple[dt.datetime, bool]]:
    """A parser returning the datetime and whether it carries a time of day."""
    if time_format in ("", "iso"):

        def iso(text: str) -> tuple[dt.datetime, bool]:
            value = dt.datetime.fromisoformat(text)
            return value, len(text) > 10

        return iso
    if time_format == "date":
        from beacon.analytics.io import _parse_date_flexible

        return lambda text: (_parse_date_flexible(text), False)
    if time_format == "month":
        return lambda text: (_parse_month(text), False)
    pattern = time_format
    has_time = any(token in pattern for token in ("%H", "%I", "%M"))
    return lambda text: (dt.datetime.strptime(text, pattern), has_time)
