"""Reading incident files: stream them in batches of parsed rows (:class:`RowBatch`).

Pure Python and numpy (no Django): the importer, tests and benchmarks use it directly.
Files are read as a stream in batches, so memory stays bounded whatever the file size;
every row keeps its physical line number, and a row that cannot be used becomes a
:class:`RowError` with that line number and the reason, never an exception. Batches
come as columns (:meth:`IncidentReader.row_batches`, what the importer uses) or as
:class:`SourceRow` objects (:meth:`IncidentReader.batches`).

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

The profiles themselves are in :mod:`beacon.incidents.profiles`; low-level helpers
(cell clean-up, header look-up, date parsing, projection) come from
:mod:`beacon.analytics.io`, which reads the same files for analysis.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from beacon.analytics.io import Columns, outside_area_of_use, transformer
from beacon.incidents.profiles import FormatError, Profile, Reject, check_range, profile_for
from beacon.incidents.rowbatch import (
    MAPPED,
    MISSING,
    SUPPRESSED,
    RowBatch,
    RowError,
    SourceRow,
    ZoneClock,
)

__all__ = [
    "FORMATS",
    "GENERIC_KEYS",
    "MAPPED",
    "MISSING",
    "SUPPRESSED",
    "FormatError",
    "IncidentReader",
    "RowBatch",
    "RowError",
    "SourceRow",
]

FORMATS = ("beacon", "vancouver", "policeuk", "chicago", "generic")
MAX_ID_LENGTH = 100  # Incident.external_id
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


@dataclass
class IncidentReader:
    """Stream a file in one of :data:`FORMATS`.

    ``tz`` is the IANA zone of wall-clock times without an offset (the community's).
    ``crs`` declares projected coordinates (required for x/y in ``beacon`` and
    ``generic``; VPD files default to EPSG:26910). Iterate :meth:`row_batches` (columns,
    what the importer uses) or :meth:`batches` (row objects);
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
        self.clock = ZoneClock(self.zone)
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

    def batches(self, size: int = 5000) -> Iterator[list[SourceRow | RowError]]:
        """Yield the rows of about ``size`` at a time as objects, in line order."""
        for batch in self.row_batches(size):
            yield batch.rows(self.zone)

    def row_batches(self, size: int = 5000) -> Iterator[RowBatch]:
        """Yield batches of about ``size`` rows in columns, projected and checked.

        Every data row ends up either in a batch's columns or in its ``errors`` with its
        physical line number and the reason; blank lines are skipped.
        """
        try:
            raw = self.path.open("rb")
        except OSError as exc:
            raise FormatError(f"cannot open {self.path}: {exc.strerror}") from None
        self._raw = raw
        text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
        reader = csv.reader(text, delimiter=self.delimiter)
        with text:
            header, start = self._header(reader)
            profile = profile_for(self, header)
            width = len(header.names)
            lines: list[int] = []
            rows: list[list[str]] = []
            errors: list[RowError] = []
            while True:
                try:
                    # The hot loop: plain list appends, everything else per batch.
                    for row in reader:
                        line = start
                        start = reader.line_num + 1
                        count = len(row)
                        if count == width and (count > 1 or row[0].strip()):
                            lines.append(line)
                            rows.append(row)
                            if len(rows) >= size:
                                self.rows_read += len(rows) + len(errors)
                                yield self._parse(profile, lines, rows, errors)
                                lines, rows, errors = [], [], []
                        elif count == 0 or (count == 1 and not row[0].strip()):
                            continue  # blank line
                        else:
                            errors.append(
                                RowError(
                                    line,
                                    f"expected {width} columns as in the header, found {count}",
                                )
                            )
                except UnicodeDecodeError:
                    raise FormatError(
                        f"line {start} is not {self.encoding} text; pass the file's encoding"
                    ) from None
                except csv.Error as exc:
                    errors.append(RowError(start, f"unreadable CSV ({exc})"))
                    start = reader.line_num + 1
                    continue
                break
            if rows or errors:
                self.rows_read += len(rows) + len(errors)
                yield self._parse(profile, lines, rows, errors)

    def _header(self, reader: Any) -> tuple[Columns, int]:
        """The header row and the line the data starts on."""
        start = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                raise FormatError(f"{self.path} is empty (no header row)") from None
            except UnicodeDecodeError:
                raise FormatError(
                    f"line {start} is not {self.encoding} text; pass the file's encoding"
                ) from None
            except csv.Error as exc:
                raise FormatError(f"line {start}: the header row is unreadable ({exc})") from None
            if row and any(c.strip() for c in row):
                return Columns(row), reader.line_num + 1
            start = reader.line_num + 1

    def _parse(
        self,
        profile: Profile,
        lines: list[int],
        rows: list[list[str]],
        errors: list[RowError],
    ) -> RowBatch:
        """Parse, key and project one batch of raw rows."""
        if not rows:
            batch = RowBatch.from_rows([], errors)
        elif profile.parse_batch is not None:
            batch, kept = profile.parse_batch(lines, rows)
            batch.errors = errors + batch.errors
            # The digest of the raw row: the key of id-less rows and the change detector.
            blake = hashlib.blake2b
            batch.digests = [
                blake("\x1f".join(row).encode(), digest_size=10).digest() for row in kept
            ]
            batch.external_ids = self._content_keys(batch.digests)
        else:
            assert profile.parse is not None
            parsed_rows = self._parse_rows(profile, lines, rows, errors)
            batch = RowBatch.from_rows(parsed_rows, errors)
        if profile.crs is not None:
            batch = self._project(batch, profile.crs)
        batch.errors.sort(key=lambda error: error.line)
        return batch

    def _parse_rows(
        self, profile: Profile, lines: list[int], rows: list[list[str]], errors: list[RowError]
    ) -> list[SourceRow]:
        parse = profile.parse
        assert parse is not None
        parsed_rows: list[SourceRow] = []
        for line, row in zip(lines, rows, strict=True):
            try:
                parsed = parse(row, line)
                for value in (parsed.occurred_from, parsed.occurred_to, parsed.reported_at):
                    if value is not None:
                        check_range(value)
                digest = hashlib.blake2b("\x1f".join(row).encode("utf-8"), digest_size=10).digest()
                parsed.digest = digest
                if profile.content_keyed or not parsed.external_id:
                    parsed.external_id = self._content_key(digest)
                elif len(parsed.external_id) > MAX_ID_LENGTH:
                    # Cut short, two ids could become one and overwrite each other.
                    raise Reject(
                        f"id {parsed.external_id[:20]!r}… is longer than {MAX_ID_LENGTH} characters"
                    )
                elif not self._first_id(parsed.external_id, line):
                    first = self._seen_ids[parsed.external_id]
                    raise Reject(f"id {parsed.external_id!r} appears again (first on line {first})")
            except Reject as exc:
                errors.append(RowError(line, exc.reason))
                continue
            except OverflowError:  # calendar arithmetic at the ends of the range
                errors.append(RowError(line, "a date/time is out of range"))
                continue
            parsed_rows.append(parsed)
        return parsed_rows

    def _first_id(self, ident: str, line: int) -> bool:
        if ident in self._seen_ids:
            return False
        self._seen_ids[ident] = line
        return True

    def _content_keys(self, digests: list[bytes]) -> list[str]:
        """:meth:`_content_key` for a batch: in one pass when no row repeats an earlier one."""
        # The first 8 bytes of each 10-byte digest as a big-endian number, at once.
        raw = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(len(digests), 10)
        shorts: list[int] = raw[:, :8].copy().view(">u8").ravel().tolist()
        distinct = set(shorts)
        seen = self._seen_keys
        if len(distinct) == len(shorts) and seen.isdisjoint(distinct):
            seen |= distinct
            return [f"k{digest.hex()}-1" for digest in digests]
        keys: list[str] = []
        repeats = self._repeats
        for digest, short in zip(digests, shorts, strict=True):
            if short in seen:
                occurrence = repeats.get(short, 1) + 1
                repeats[short] = occurrence
            else:
                seen.add(short)
                occurrence = 1
            keys.append(f"k{digest.hex()}-{occurrence}")
        return keys

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

    def _project(self, batch: RowBatch, crs: str) -> RowBatch:
        """Convert projected x/y to lat/lon for the whole batch at once (pyproj)."""
        pending = ~(np.isnan(batch.x) | np.isnan(batch.y))
        if not pending.any():
            return batch
        xs, ys = batch.x[pending], batch.y[pending]
        lon, lat = transformer(crs, "EPSG:4326").transform(xs, ys)
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        outside = outside_area_of_use(lon, lat, crs)
        where = np.flatnonzero(pending)
        good = where[~outside]
        batch.lat[good] = np.round(lat[~outside], 7)
        batch.lon[good] = np.round(lon[~outside], 7)
        for i in good.tolist():
            batch.location[i] = MAPPED
        batch.x[pending] = np.nan
        batch.y[pending] = np.nan
        if not outside.any():
            return batch
        keep = np.ones(len(batch), dtype=bool)
        for j in np.flatnonzero(outside).tolist():
            i = int(where[j])
            keep[i] = False
            batch.errors.append(
                RowError(
                    batch.lines[i],
                    f"x {float(xs[j])} / y {float(ys[j])} does not fit {crs} (outside its area "
                    "of use; wrong --crs?)",
                )
            )
        return batch.select(keep)
