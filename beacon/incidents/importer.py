"""The incident importer: one function the CLI, the upload page, the API and the demo call.

A file is streamed in batches of columns (:mod:`beacon.incidents.formats`); each batch
is classified, checked, located (H3 cell, neighbourhood, beat) and hashed a column at a
time, compared with the source's stored keys and content hashes (loaded once, see
:class:`~beacon.incidents.bulkwrite.ExistingRows`) and written in bulk
(:mod:`beacon.incidents.bulkwrite`: ``executemany`` on SQLite, ``COPY`` on PostgreSQL).
Memory stays bounded by the batch size, whatever the file size.

``on_error="skip"`` commits every couple of seconds and reports every rejected row;
``on_error="abort"`` runs the whole file in one transaction and rolls it back if any
row is rejected, still reporting all of them. One audit row records each import.
"""

from __future__ import annotations

import contextlib
import gc
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from beacon.core.audit import record_event
from beacon.core.models import Community
from beacon.incidents import taxonomy
from beacon.incidents.bulkwrite import (
    INSERT_COLUMNS,
    ExistingRows,
    Planned,
    writer_for,
)
from beacon.incidents.formats import (
    FORMATS,
    FormatError,
    IncidentReader,
    RowBatch,
)
from beacon.incidents.models import Incident, IncidentImport
from beacon.incidents.preparation import SITE_RESOLUTION, Batcher

MAX_KEPT_REJECTIONS = 1000
ON_ERROR = ("skip", "abort")
# Skip mode commits (and reports progress) at least this often; on SQLite a commit
# also lets other writers in, so it should stay short.
COMMIT_SECONDS = 2.0
# ... and writes out buffered rows at least every so many rows, bounding memory.
CHUNK_ROWS = 100_000
# Batches the reading thread may prepare ahead of the writer (PostgreSQL).
READ_AHEAD = 2
# The SQLite page cache while importing, in KiB.
SQLITE_CACHE_KIB = 65_536
Progress = Callable[[int, int], None]
T = TypeVar("T")

__all__ = [
    "FORMATS",
    "INSERT_COLUMNS",
    "ON_ERROR",
    "SITE_RESOLUTION",
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
    batch_size: int = 10_000

    def __post_init__(self) -> None:
        if self.on_error not in ON_ERROR:
            raise FormatError(f"on_error must be one of {', '.join(ON_ERROR)}")
        if self.default_offence and self.default_offence not in taxonomy.OFFENCES:
            raise FormatError(f"unknown default offence {self.default_offence!r}")
        self.source = (self.source or self.fmt)[:40]

    def as_dict(self) -> dict[str, Any]:
        """The options as stored with an import record (and read back by the worker)."""
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
        """Count a rejected row and keep its line and reason (the first ones only)."""
        self.rejected += 1
        if len(self.rejections) < MAX_KEPT_REJECTIONS:
            self.rejections.append((line, reason))

    def counts(self) -> dict[str, int]:
        """The counts by name, as stored on the import record and in the audit row."""
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


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector during a bulk import.

    Every batch allocates hundreds of thousands of small objects, each allocation
    counting towards a collection that then walks the whole process heap; the rows
    are freed by reference counting anyway, so the pauses only cost time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _Staged:
    """One batch, prepared for writing (or entirely rejected)."""

    rows_read: int
    rejections: list[tuple[int, str]]
    position: int  # bytes of the file read so far
    rows: int = 0
    mapped: int = 0
    planned: Planned | None = None


def _staged_batches(
    reader: IncidentReader, options: ImportOptions, stage: Callable[[RowBatch], _Staged]
) -> Generator[_Staged, None, None]:
    """The file's batches, staged for writing.

    On PostgreSQL a thread reads and prepares the next batches while the server takes
    the current ones: the ``COPY`` stream and the commits wait on the network with the
    interpreter lock released, so parsing overlaps the server's index and foreign key
    work. SQLite runs in the importing thread, as its driver releases the lock around
    every row it steps, and a busy reading thread then slows each row down (measured:
    the overlapped import was slower than parsing and writing one after the other).
    """
    batches = (stage(batch) for batch in reader.row_batches(options.batch_size))
    if connection.vendor != "postgresql":
        yield from batches
        return
    yield from _read_ahead(batches, READ_AHEAD)


def _read_ahead(items: Iterator[T], depth: int) -> Generator[T, None, None]:
    """Yield ``items`` produced by a background thread, at most ``depth`` ahead.

    An exception in the thread is raised here; closing this generator stops the thread
    (and closes ``items`` there, so the file is closed) before returning.
    """
    results: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value: Any) -> bool:
        while not stop.is_set():
            try:
                results.put((kind, value), timeout=0.05)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put("item", item):
                    return
        except BaseException as exc:  # handed to the importing thread
            put("error", exc)
        else:
            put("done", None)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="incident-import-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = results.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


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
    batcher = Batcher(community, options, record, policy.sensitive_groups)
    # The keys and content hashes already stored for this source, in one query; a
    # source imported for the first time needs no look-ups at all.
    existing = (
        ExistingRows.load(community.pk, options.source)
        if Incident.objects.filter(community=community, source=options.source).exists()
        else ExistingRows.empty()
    )
    writer = writer_for(community.pk, options.source)
    if connection.vendor == "sqlite":
        # A bigger page cache for this connection keeps the indexes' B-trees in memory
        # during bulk inserts (SQLite's default is 2 MB).
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{int(SQLITE_CACHE_KIB)}")
    now = timezone.now()
    position = 0

    def stage(batch: RowBatch) -> _Staged:
        """Everything about a batch that needs no database (may run in another thread)."""
        rejections = [(error.line, error.reason) for error in batch.errors]
        prepared = batcher.prepare(batch, rejections, now)
        rejections.sort()
        staged = _Staged(len(batch) + len(batch.errors), rejections, reader.bytes_read)
        if prepared is not None:
            staged.rows = len(prepared)
            staged.mapped = int(np.count_nonzero(prepared.columns["cell"] >= 0))
            new, changed = existing.classify(prepared)
            staged.planned = writer.plan(prepared, new, changed)
        return staged

    def import_batch(staged: _Staged) -> int:
        nonlocal position
        summary.rows_read += staged.rows_read
        for line, reason in staged.rejections:
            summary.reject(line, reason)
        position = staged.position
        if staged.planned is None:
            return 0
        summary.mapped += staged.mapped
        summary.unmapped += staged.rows - staged.mapped
        writer.apply(staged.planned)
        return staged.rows

    def import_chunk(batches: Iterator[_Staged]) -> bool:
        """Import batches for up to COMMIT_SECONDS (or CHUNK_ROWS); False when done."""
        started = time.monotonic()
        rows = 0
        more = False
        try:
            for batch in batches:
                rows += import_batch(batch)
                if progress is not None:
                    progress(position, reader.total_bytes)
                if time.monotonic() - started >= COMMIT_SECONDS or rows >= CHUNK_ROWS:
                    more = True
                    break
            writer.flush()
        except BaseException:
            writer.close()
            raise
        summary.imported = writer.imported
        summary.updated = writer.updated
        summary.unchanged = writer.unchanged
        return more

    try:
        with (
            _no_cyclic_gc(),
            contextlib.closing(_staged_batches(reader, options, stage)) as batches,
        ):
            if options.on_error == "abort":
                with transaction.atomic():
                    while import_chunk(batches):
                        pass
                    if summary.rejected:
                        summary.aborted = True
                        raise ImportAbortedError(summary)
            else:
                more = True
                while more:
                    with transaction.atomic():
                        more = import_chunk(batches)
                        _save_progress(record, summary, position)
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
    # Public alerts follow publication (delay, sensitivity, masking): the publication
    # below, or the periodic one once the delay has passed, has them sent.
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
