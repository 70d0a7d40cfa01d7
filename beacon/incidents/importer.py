"""The incident importer: one function the CLI, the upload page, the API and the demo call.

A file is streamed in batches (:mod:`beacon.incidents.formats`); each batch is
classified, located (H3 cell, neighbourhood, beat), compared with what is stored by
``(source, external id)`` and written with one ``executemany`` per kind of change, so
throughput stays close to a raw bulk load and memory stays bounded.

``on_error="skip"`` commits batch by batch and reports every rejected row;
``on_error="abort"`` runs the whole file in one transaction and rolls it back if any
row is rejected, still reporting all of them. One audit row records each import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import shapely
from django.db import connection, transaction
from django.utils import timezone
from h3.api import basic_int as h3i
from shapely.geometry.base import BaseGeometry

from beacon.core import geo
from beacon.core.audit import record_event
from beacon.core.models import Area, AreaCell, AreaKind, Community
from beacon.incidents import taxonomy
from beacon.incidents.formats import (
    FORMATS,
    MAPPED,
    FormatError,
    IncidentReader,
    RowError,
    SourceRow,
)
from beacon.incidents.models import Incident, IncidentImport

SITE_RESOLUTION = 10
MAX_KEPT_REJECTIONS = 1000
ON_ERROR = ("skip", "abort")
Progress = Callable[[int, int], None]
# Incident columns the importer writes, in the order _Writer._values builds them.
INSERT_COLUMNS = [
    "community_id",
    "source",
    "external_id",
    "status",
    "created_at",
    "occurred_from",
    "occurred_to",
    "reported_at",
    "local_month",
    "local_weekday",
    "local_hour",
    "offence",
    "offence_group",
    "source_offence",
    "sensitive",
    "lat",
    "lon",
    "cell",
    "location_status",
    "block_address",
    "neighbourhood_id",
    "neighbourhood_name",
    "beat_id",
    "outcome",
    "content_hash",
    "last_import_id",
    "updated_at",
]
_UPDATE_FROM = INSERT_COLUMNS.index("occurred_from")
_CELL = INSERT_COLUMNS.index("cell")
_HASH = INSERT_COLUMNS.index("content_hash")

__all__ = [
    "FORMATS",
    "ON_ERROR",
    "FormatError",
    "ImportAbortedError",
    "ImportOptions",
    "ImportSummary",
    "import_incidents",
]


@dataclass
class ImportOptions:
    """How to read a file. ``source`` defaults to the format name."""

    fmt: str
    source: str = ""
    crs: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    time_format: str = "iso"
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    on_error: str = "skip"
    default_offence: str | None = None
    batch_size: int = 5000

    def __post_init__(self) -> None:
        if self.on_error not in ON_ERROR:
            raise FormatError(f"on_error must be one of {', '.join(ON_ERROR)}")
        if self.default_offence and self.default_offence not in taxonomy.OFFENCES:
            raise FormatError(f"unknown default offence {self.default_offence!r}")
        self.source = (self.source or self.fmt)[:40]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ImportSummary:
    """What an import did; ``rejections`` keeps the first :data:`MAX_KEPT_REJECTIONS`."""

    rows_read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    mapped: int = 0
    unmapped: int = 0
    rejections: list[tuple[int, str]] = field(default_factory=list)
    aborted: bool = False
    import_id: int | None = None

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_KEPT_REJECTIONS:
            self.rejections.append((line, reason))

    def counts(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "mapped": self.mapped,
            "unmapped": self.unmapped,
        }

    def line(self) -> str:
        """One sentence for people."""
        text = (
            f"{self.imported} imported, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.rejected} rejected ({self.mapped} mapped, {self.unmapped} unmapped)"
        )
        if self.aborted:
            text += "; aborted: nothing was changed"
        return text


class ImportAbortedError(Exception):
    """``on_error=abort`` met rejected rows; the database is as it was."""

    def __init__(self, summary: ImportSummary) -> None:
        self.summary = summary
        super().__init__(summary.line())


class AreaLocator:
    """Neighbourhood and beat of points via the areas' H3 covers, held in memory."""

    def __init__(self, community: Community) -> None:
        self.cells: dict[str, dict[int, list[tuple[int, bool]]]] = {
            AreaKind.NEIGHBOURHOOD: {},
            AreaKind.BEAT: {},
        }
        rows = AreaCell.objects.filter(community=community, kind__in=list(self.cells)).values_list(
            "kind", "cell", "area_id", "interior"
        )
        for kind, cell, area_id, interior in rows.order_by("area_id"):
            self.cells[kind].setdefault(cell, []).append((area_id, interior))
        self.names = {
            name.casefold(): pk
            for pk, name in Area.objects.filter(
                community=community, kind=AreaKind.NEIGHBOURHOOD
            ).values_list("pk", "name")
        }
        self._shapes: dict[int, BaseGeometry] = {}

    def _shape(self, area_id: int) -> BaseGeometry:
        shape = self._shapes.get(area_id)
        if shape is None:
            geometry = Area.objects.values_list("geometry", flat=True).get(pk=area_id)
            shape = geo.parse_area_geometry(geometry)
            shapely.prepare(shape)
            self._shapes[area_id] = shape
        return shape

    def locate(self, kind: str, cell9: int, lat: float, lon: float) -> int | None:
        """The id of the area of ``kind`` holding the point (lowest id on shared edges)."""
        candidates = self.cells[kind].get(cell9)
        if not candidates:
            return None
        for area_id, interior in candidates:
            if interior:
                return area_id
        for area_id, _interior in candidates:
            # intersects_xy on a prepared polygon: no Point object, boundary included.
            if shapely.intersects_xy(self._shape(area_id), lon, lat):
                return area_id
        return None


def _bounds(community: Community) -> tuple[float, float, float, float] | None:
    """The community's bounding box with ~1 km to spare, or None without a boundary."""
    if not community.boundary:
        return None
    west, south, east, north = geo.parse_area_geometry(community.boundary).bounds
    margin = 0.01
    return west - margin, south - margin, east + margin, north + margin


class _Writer:
    """Turns source rows into incident rows and writes them in bulk."""

    def __init__(
        self,
        community: Community,
        options: ImportOptions,
        record: IncidentImport,
        summary: ImportSummary,
        extra_sensitive: frozenset[str],
    ) -> None:
        self.community = community
        self.community_id = community.pk
        self.record_id = record.pk
        self.options = options
        self.record = record
        self.summary = summary
        self.extra_sensitive = extra_sensitive
        self.locator = AreaLocator(community)
        self.bounds = _bounds(community)
        self.vocabulary = options.fmt if options.fmt in taxonomy.VOCABULARIES else "any"
        self.columns = INSERT_COLUMNS
        table = Incident._meta.db_table
        quote = connection.ops.quote_name
        placeholders = ", ".join(["%s"] * len(INSERT_COLUMNS))
        # Identifiers come from model metadata, values are parameters.
        self.insert_sql = (
            f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in INSERT_COLUMNS)}) "  # noqa: S608
            f"VALUES ({placeholders})"
        )
        # Updates leave the identity, staff-managed fields (status) and created_at alone.
        assignments = ", ".join(f"{quote(c)} = %s" for c in INSERT_COLUMNS[_UPDATE_FROM:])
        self.update_sql = f"UPDATE {quote(table)} SET {assignments} WHERE {quote('id')} = %s"  # noqa: S608
        self.adapt_dt = _datetime_adapter()
        self.months: dict[tuple[int, int], Any] = {}
        # Nothing of this source exists yet: every row is new, no look-ups needed.
        self.fresh = not Incident.objects.filter(
            community=community, source=options.source
        ).exists()

    def _values(self, row: SourceRow, now: Any) -> tuple[Any, ...] | str:
        """The incident's column values (INSERT_COLUMNS order) or why the row is rejected."""
        try:
            found = taxonomy.classify(
                self.vocabulary,
                row.category,
                default=self.options.default_offence,
                extra_sensitive=self.extra_sensitive,
                domestic=row.domestic,
            )
        except taxonomy.UnknownOffenceError as exc:
            return str(exc)
        sensitive = found.sensitive or (
            bool(row.detail) and taxonomy.classify("any", row.detail, default="other").sensitive
        )
        lat, lon = row.lat, row.lon
        cell = nbhd = beat = None
        cell9 = 0
        if lat is not None and lon is not None:
            if self.bounds is not None:
                west, south, east, north = self.bounds
                if not (west <= lon <= east and south <= lat <= north):
                    return (
                        f"latitude {lat} / longitude {lon} is outside the community "
                        f"{self.community.slug!r} (wrong file, community or --crs?)"
                    )
            cell = h3i.latlng_to_cell(lat, lon, SITE_RESOLUTION)
            cell9 = h3i.cell_to_parent(cell, geo.H3_RESOLUTION)
            beat = self.locator.locate(AreaKind.BEAT, cell9, lat, lon)
        # The source's own neighbourhood name wins when it names one of ours.
        if row.neighbourhood:
            nbhd = self.locator.names.get(row.neighbourhood.casefold())
        if nbhd is None and cell is not None and lat is not None and lon is not None:
            nbhd = self.locator.locate(AreaKind.NEIGHBOURHOOD, cell9, lat, lon)
        local = row.local
        month = self.months.get((local.year, local.month))
        if month is None:
            month = self.months[(local.year, local.month)] = connection.ops.adapt_datefield_value(
                dt.date(local.year, local.month, 1)
            )
        known = row.time_known
        # The raw row plus what Beacon derived from it: a change in either is an update.
        digest = hashlib.blake2b(
            row.digest + f"|{found.offence}|{sensitive:d}|{nbhd}|{beat}".encode(),
            digest_size=16,
        ).hexdigest()
        adapt = self.adapt_dt
        return (
            self.community_id,
            self.options.source,
            row.external_id[:100],
            "reported",
            now,
            # Columns from here on are the ones an update rewrites.
            adapt(row.occurred_from),
            adapt(row.occurred_to) if row.occurred_to else None,
            adapt(row.reported_at) if row.reported_at else None,
            month,
            local.weekday() if known else None,
            local.hour if known else None,
            found.offence,
            found.group,
            row.category[:200],
            sensitive,
            lat,
            lon,
            cell,
            MAPPED if cell is not None else row.location,
            row.block[:200],
            nbhd,
            row.neighbourhood[:120],
            beat,
            row.outcome[:200],
            digest,
            self.record_id,
            now,
        )

    def write(self, batch: list[SourceRow | RowError]) -> None:
        summary = self.summary
        now = self.adapt_dt(timezone.now())
        prepared: dict[str, tuple[Any, ...]] = {}
        for item in batch:
            summary.rows_read += 1
            if isinstance(item, RowError):
                summary.reject(item.line, item.reason)
                continue
            values = self._values(item, now)
            if isinstance(values, str):
                summary.reject(item.line, values)
                continue
            prepared[values[2]] = values
        if not prepared:
            return
        mapped = sum(1 for values in prepared.values() if values[_CELL] is not None)
        summary.mapped += mapped
        summary.unmapped += len(prepared) - mapped
        existing: dict[str, tuple[int, str]] = {}
        if not self.fresh:
            existing = {
                ext: (pk, digest)
                for pk, ext, digest in Incident.objects.filter(
                    community=self.community,
                    source=self.options.source,
                    external_id__in=list(prepared),
                )
                # No ORDER BY: the default ordering would steer the planner to the
                # date index and a scan of the whole community for every batch.
                .order_by()
                .values_list("pk", "external_id", "content_hash")
            }
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        for ext, values in prepared.items():
            known = existing.get(ext)
            if known is None:
                inserts.append(values)
            elif known[1] == values[_HASH]:
                summary.unchanged += 1
            else:
                updates.append((*values[_UPDATE_FROM:], known[0]))
        with connection.cursor() as cursor:
            if inserts:
                cursor.executemany(self.insert_sql, inserts)
            if updates:
                cursor.executemany(self.update_sql, updates)
        summary.imported += len(inserts)
        summary.updated += len(updates)


def _datetime_adapter() -> Callable[[dt.datetime], Any]:
    """Aware datetimes to what the database driver takes.

    SQLite stores Django datetimes as naive UTC text; going straight there is several
    times faster than the general adapter, which matters at a million rows.
    """
    if connection.vendor != "sqlite":
        return connection.ops.adapt_datetimefield_value

    def to_text(value: dt.datetime) -> str:
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")

    return to_text


def import_incidents(
    community: Community,
    path: Path | str,
    options: ImportOptions,
    *,
    actor: Any = None,
    record: IncidentImport | None = None,
    progress: Progress | None = None,
    publish: bool = True,
) -> ImportSummary:
    """Import an incident file into ``community``; audited, idempotent by external id.

    Raises :class:`FormatError` when the file cannot be read at all and
    :class:`ImportAbortedError` when ``on_error="abort"`` met a bad row (nothing is
    changed). ``record`` tracks progress for pages; one is created when not given.
    With ``publish`` the public tables are rebuilt afterwards.
    """
    from beacon.incidents.privacy import policy_for, publish_community

    path = Path(path)
    reader = IncidentReader(
        path,
        options.fmt,
        tz=community.timezone,
        crs=options.crs,
        mapping=options.mapping,
        time_format=options.time_format,
        delimiter=options.delimiter,
        encoding=options.encoding,
    )
    policy = policy_for(community)
    if record is None:
        record = IncidentImport.objects.create(
            community=community,
            created_by=actor if getattr(actor, "pk", None) else None,
            fmt=options.fmt,
            source=options.source,
            options=options.as_dict(),
            original_name=path.name,
        )
    summary = ImportSummary(import_id=record.pk)
    record.status = IncidentImport.Status.RUNNING
    record.started_at = timezone.now()
    record.total_bytes = reader.total_bytes
    record.save(update_fields=["status", "started_at", "total_bytes"])
    writer = _Writer(community, options, record, summary, policy.sensitive_groups)
    if connection.vendor == "sqlite":
        # A 64 MB page cache for this connection keeps the indexes' B-trees in memory
        # during bulk inserts (SQLite's default is 2 MB).
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")

    def note_progress() -> None:
        if progress is not None:
            progress(reader.bytes_read, reader.total_bytes)

    try:
        if options.on_error == "abort":
            with transaction.atomic():
                for batch in reader.batches(options.batch_size):
                    writer.write(batch)
                    note_progress()
                if summary.rejected:
                    summary.aborted = True
                    raise ImportAbortedError(summary)
        else:
            for batch in reader.batches(options.batch_size):
                with transaction.atomic():
                    writer.write(batch)
                    _save_progress(record, summary, reader.bytes_read)
                note_progress()
    except ImportAbortedError:
        _finish(record, summary, IncidentImport.Status.ABORTED, actor, community, "")
        raise
    except FormatError as exc:
        _finish(record, summary, IncidentImport.Status.FAILED, actor, community, str(exc))
        raise
    _finish(record, summary, IncidentImport.Status.SUCCEEDED, actor, community, "")
    if connection.vendor == "postgresql" and summary.imported >= 10_000:
        # Fresh statistics after a bulk load, or the planner keeps treating the table
        # as small and scans it for every later batch look-up (autovacuum is too late).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Incident._meta.db_table)}")
    if summary.imported:
        # Area alerts for new, recent, non-sensitive incidents (masked locations only).
        from beacon.notify.incidents import alert_new_incidents

        alert_new_incidents(community, record.pk)
    if publish and (summary.imported or summary.updated):
        publish_community(community)
    return summary


def _save_progress(record: IncidentImport, summary: ImportSummary, position: int) -> None:
    record.processed_bytes = position
    for name, value in summary.counts().items():
        setattr(record, name, value)
    record.save(update_fields=["processed_bytes", *summary.counts()])


def _finish(
    record: IncidentImport,
    summary: ImportSummary,
    status: str,
    actor: Any,
    community: Community,
    message: str,
) -> None:
    record.status = status
    record.finished_at = timezone.now()
    record.message = message
    record.rejections = [list(r) for r in summary.rejections]
    if status == IncidentImport.Status.ABORTED:
        # The rows were rolled back; the record says what would have happened.
        pass
    for name, value in summary.counts().items():
        setattr(record, name, value)
    record.processed_bytes = record.total_bytes
    record.save()
    record_event(
        actor=actor,
        action="import",
        obj=record,
        community_id=community.pk,
        outcome={"succeeded": "success", "aborted": "aborted"}.get(status, "failure"),
        detail={
            "format": record.fmt,
            "source": record.source,
            "file": record.original_name,
            **summary.counts(),
            **({"message": message} if message else {}),
        },
    )
