"""Parsed incident rows held in columns, and the vectorised helpers that fill them.

The reader (:mod:`beacon.incidents.formats`) hands the importer one :class:`RowBatch`
per few thousand rows: one list or numpy array per field, so classification, H3
cells, area look-ups and the database write each work on a whole batch at once
instead of paying Python's per-row overhead ten times over.

Pure Python and numpy (no Django).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from itertools import compress
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAPPED",
    "MISSING",
    "SUPPRESSED",
    "RowBatch",
    "RowError",
    "SourceRow",
    "ZoneClock",
    "int_column",
]

MAPPED, SUPPRESSED, MISSING = "mapped", "suppressed", "missing"
NAT = np.datetime64("NaT", "us")
DateArray = npt.NDArray[np.datetime64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


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


def _utc64(values: Sequence[dt.datetime | None]) -> DateArray:
    """Aware datetimes (or None) as naive UTC ``datetime64[us]`` (NaT for None)."""
    return np.array(
        [
            NAT if v is None else np.datetime64(v.astimezone(dt.UTC).replace(tzinfo=None), "us")
            for v in values
        ],
        dtype="datetime64[us]",
    )


@dataclass
class RowBatch:
    """Usable rows of one batch, field by field, plus the rows that failed.

    Times are ``datetime64[us]``: ``occurred_from``, ``occurred_to`` and ``reported_at``
    are UTC instants (NaT for "not given"), ``local`` the wall-clock start in the
    community's zone. ``lat``/``lon`` are NaN for unmapped rows; ``x``/``y`` hold
    projected coordinates until the reader converts them.
    """

    lines: list[int]
    external_ids: list[str]
    digests: list[bytes]
    occurred_from: DateArray
    occurred_to: DateArray
    reported_at: DateArray
    local: DateArray
    time_known: BoolArray
    category: list[str]
    lat: FloatArray
    lon: FloatArray
    x: FloatArray
    y: FloatArray
    location: list[str]
    block: list[str]
    neighbourhood: list[str]
    outcome: list[str]
    domestic: BoolArray
    detail: list[str]
    errors: list[RowError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)

    @classmethod
    def from_rows(cls, rows: list[SourceRow], errors: list[RowError]) -> RowBatch:
        """Columns from rows parsed one by one (the formats with few, small files)."""
        nan = float("nan")
        return cls(
            lines=[r.line for r in rows],
            external_ids=[r.external_id for r in rows],
            digests=[r.digest for r in rows],
            occurred_from=_utc64([r.occurred_from for r in rows]),
            occurred_to=_utc64([r.occurred_to for r in rows]),
            reported_at=_utc64([r.reported_at for r in rows]),
            local=np.array([r.local for r in rows], dtype="datetime64[us]"),
            time_known=np.array([r.time_known for r in rows], dtype=bool),
            category=[r.category for r in rows],
            lat=np.array([nan if r.lat is None else r.lat for r in rows], dtype=np.float64),
            lon=np.array([nan if r.lon is None else r.lon for r in rows], dtype=np.float64),
            x=np.array([nan if r.x is None else r.x for r in rows], dtype=np.float64),
            y=np.array([nan if r.y is None else r.y for r in rows], dtype=np.float64),
            location=[r.location for r in rows],
            block=[r.block for r in rows],
            neighbourhood=[r.neighbourhood for r in rows],
            outcome=[r.outcome for r in rows],
            domestic=np.array([r.domestic for r in rows], dtype=bool),
            detail=[r.detail for r in rows],
            errors=errors,
        )

    def select(self, keep: BoolArray) -> RowBatch:
        """The rows where ``keep`` is true (errors are carried over unchanged)."""
        if keep.all():
            return self
        values: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "errors":
                values[f.name] = value
            elif isinstance(value, np.ndarray):
                values[f.name] = value[keep]
            else:
                values[f.name] = list(compress(value, keep.tolist()))
        return RowBatch(**values)

    def rows(self, zone: dt.tzinfo) -> list[SourceRow | RowError]:
        """The batch as :class:`SourceRow` objects and errors, in line order (for tests and
        small callers; the importer works on the columns)."""
        utc = dt.UTC

        def aware(values: DateArray) -> list[dt.datetime | None]:
            return [
                None if v is None else v.replace(tzinfo=utc).astimezone(zone)
                for v in values.astype(object).tolist()
            ]

        starts, ends, reported = (
            aware(self.occurred_from),
            aware(self.occurred_to),
            aware(self.reported_at),
        )
        local = self.local.astype(object).tolist()
        items: list[SourceRow | RowError] = list(self.errors)
        for i, line in enumerate(self.lines):
            start = starts[i]
            assert start is not None
            lat, lon = float(self.lat[i]), float(self.lon[i])
            mapped = not (np.isnan(lat) or np.isnan(lon))
            items.append(
                SourceRow(
                    line=line,
                    external_id=self.external_ids[i],
                    occurred_from=start,
                    occurred_to=ends[i],
                    local=local[i],
                    time_known=bool(self.time_known[i]),
                    category=self.category[i],
                    lat=lat if mapped else None,
                    lon=lon if mapped else None,
                    location=self.location[i],
                    block=self.block[i],
                    neighbourhood=self.neighbourhood[i],
                    outcome=self.outcome[i],
                    reported_at=reported[i],
                    domestic=bool(self.domestic[i]),
                    detail=self.detail[i],
                    digest=self.digests[i],
                )
            )
        items.sort(key=lambda item: item.line)
        return items


class ZoneClock:
    """Wall-clock times in one IANA zone to UTC, a batch at a time.

    Each calendar day's UTC offset is looked up once (and cached); rows on a day
    whose offset changes (a daylight-saving transition) are converted one by one with
    :mod:`zoneinfo`, exactly as ``datetime.replace(tzinfo=zone)`` does: a time in a
    spring-forward gap or an autumn repeat takes the offset in force before the change.
    """

    def __init__(self, zone: zoneinfo.ZoneInfo) -> None:
        self.zone = zone
        self._offsets: dict[dt.date, int | None] = {}

    def _day_offset(self, day: dt.date) -> int | None:
        """The day's offset in seconds, or None when it changes during the day."""
        if day in self._offsets:
            return self._offsets[day]
        start = dt.datetime(day.year, day.month, day.day, tzinfo=self.zone).utcoffset()
        end = start
        if day < dt.date.max:
            following = day + dt.timedelta(days=1)
            end = dt.datetime(
                following.year, following.month, following.day, tzinfo=self.zone
            ).utcoffset()
        # tzdata has no zone that changes and changes back within one day, so equal
        # offsets at both midnights mean one offset all day.
        offset = int(start.total_seconds()) if start is not None and start == end else None
        if len(self._offsets) < 100_000:
            self._offsets[day] = offset
        return offset

    def to_utc(self, local: DateArray) -> DateArray:
        """Naive wall-clock ``datetime64[us]`` in the zone to naive UTC (NaT stays NaT)."""
        result = np.full(local.shape, NAT, dtype="datetime64[us]")
        known = ~np.isnat(local)
        if not known.any():
            return result
        values = local[known].astype("datetime64[us]")
        days, inverse = np.unique(values.astype("datetime64[D]"), return_inverse=True)
        offsets = np.zeros(len(days), dtype=np.int64)
        changing = np.zeros(len(days), dtype=bool)
        for k, day in enumerate(days.astype(object).tolist()):
            offset = self._day_offset(day)
            if offset is None:
                changing[k] = True
            else:
                offsets[k] = offset
        converted = values - offsets[inverse].astype("timedelta64[s]")
        for i in np.flatnonzero(changing[inverse]).tolist():
            wall = values[i].astype(object)
            offset_td = wall.replace(tzinfo=self.zone).utcoffset()
            converted[i] = np.datetime64(wall - offset_td, "us")
        result[known] = converted
        return result


def int_column(cells: Sequence[str], empty: int | None = None) -> tuple[IntArray, BoolArray]:
    """Whole numbers from text cells, and a mask of the cells that are not one.

    ``empty`` stands in for empty cells (otherwise they are bad). One numpy call when
    the column is clean; cell by cell (``int()`` semantics, surrounding spaces allowed)
    otherwise.

    >>> values, bad = int_column(["1", " 2", "x", ""], empty=0)
    >>> values.tolist(), bad.tolist()
    ([1, 2, 0, 0], [False, False, True, False])
    """
    try:
        return np.array(cells, dtype=np.int64), np.zeros(len(cells), dtype=bool)
    except (ValueError, OverflowError):
        pass
    values = np.zeros(len(cells), dtype=np.int64)
    bad = np.zeros(len(cells), dtype=bool)
    for i, text in enumerate(cells):
        if empty is not None and not text:
            values[i] = empty
            continue
        try:
            values[i] = int(text)
        except (ValueError, OverflowError):
            bad[i] = True
    return values, bad
