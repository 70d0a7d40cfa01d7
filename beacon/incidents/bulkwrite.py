"""Bulk writing of prepared incident rows: SQLite ``executemany``, PostgreSQL ``COPY``.

The importer hands a writer :class:`Prepared` batches, one column per field, together
with which rows are new and which changed (from :class:`ExistingRows`, the keys and
content hashes of the source loaded once). New rows take the fastest path each
database has (one ``executemany`` with the per-import constants written into the
statement; a ``COPY`` stream kept open across batches, sorted by key so the unique
index is filled in order). Changed rows are upserted: ``INSERT ... ON CONFLICT
(community, source, external id) DO UPDATE ... WHERE`` the content hash differs, on
PostgreSQL from a temporary staging table filled by ``COPY``.

If another import of the same source inserted one of the "new" keys meanwhile, the
fast path fails on the unique constraint; the writer rolls back to a savepoint, looks
the keys up exactly and upserts them, so nothing is lost or doubled.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from django.db import IntegrityError, connection, transaction

from beacon.incidents.models import Incident

__all__ = [
    "INSERT_COLUMNS",
    "UPDATE_COLUMNS",
    "Constant",
    "ExistingRows",
    "Planned",
    "Prepared",
    "writer_for",
]

# Incident columns the importer writes.
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
# An update leaves the identity, staff-managed fields (status) and created_at alone.
UPDATE_COLUMNS = INSERT_COLUMNS[INSERT_COLUMNS.index("occurred_from") :]
KEY_COLUMNS = ("community_id", "source", "external_id")
LOOKUP_CHUNK = 500
BoolArray = npt.NDArray[np.bool_]
# Text written into SQL as a literal: no quote or backslash can occur in it.
_SAFE_LITERAL = re.compile(r"[0-9A-Za-z_ :.+-]*")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class Constant(NamedTuple):
    """A column with one value for every row of the import."""

    value: Any


@dataclass
class Prepared:
    """Incident rows ready to write, field by field.

    Each entry of ``columns`` is a :class:`Constant`, a list (text), or a numpy array:
    ``datetime64[us]`` UTC instants (NaT: none), ``datetime64[D]`` dates, float64 (NaN:
    none), bool, or int64 where -1 means none (H3 cells and area ids are positive).
    """

    external_ids: list[str]
    content_hashes: list[str]
    columns: dict[str, Any]

    def __len__(self) -> int:
        return len(self.external_ids)

    def take(self, indices: list[int]) -> Prepared:
        """The rows at ``indices``, in that order."""
        if not indices:
            pick: Callable[[list[Any]], list[Any]] = lambda values: []  # noqa: E731
        elif len(indices) == 1:
            only = indices[0]
            pick = lambda values: [values[only]]  # noqa: E731
        else:
            getter = itemgetter(*indices)
            pick = lambda values: list(getter(values))  # noqa: E731
        array_index = np.asarray(indices, dtype=np.int64)
        columns: dict[str, Any] = {}
        for name, value in self.columns.items():
            if isinstance(value, Constant):
                columns[name] = value
            elif isinstance(value, np.ndarray):
                columns[name] = value[array_index]
            else:
                columns[name] = pick(value)
        return Prepared(pick(self.external_ids), pick(self.content_hashes), columns)


@dataclass
class Planned:
    """A batch ready to write: its new rows (and their encoding) and its changed rows."""

    new: Prepared | None
    encoded: Any
    changed: Prepared | None
    unchanged: int


class ExistingRows:
    """The external ids and content hashes a source already has, loaded in one query.

    Held as two sorted arrays of 64-bit hashes (16 bytes a row), so even millions of
    stored incidents cost little memory. A row counts as unchanged only when both its
    key and its content hash match; everything else is written, and the database's
    unique constraint decides between insert and update, so a hash collision can at
    worst turn an insert into an upsert, never lose a row.
    """

    def __init__(self, keys: npt.NDArray[np.int64], contents: npt.NDArray[np.int64]) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.contents = contents[order]

    @classmethod
    def load(cls, community_id: int, source: str) -> ExistingRows:
        """Stream the source's (external id, content hash) pairs straight from the driver."""
        query = (
            Incident.objects.filter(community_id=community_id, source=source)
            .order_by()
            .values_list("external_id", "content_hash")
            .query
        )
        sql, params = query.sql_with_params()
        keys: list[npt.NDArray[np.int64]] = []
        contents: list[npt.NDArray[np.int64]] = []
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(50_000):
                ids, hashes = zip(*rows, strict=True)
                keys.append(_hashes(ids))
                contents.append(_hashes(hashes))
        if not keys:
            return cls.empty()
        return cls(np.concatenate(keys), np.concatenate(contents))

    @classmethod
    def empty(cls) -> ExistingRows:
        """A source with nothing stored yet: every row is new."""
        nothing = np.zeros(0, dtype=np.int64)
        return cls(nothing, nothing)

    def __len__(self) -> int:
        return len(self.keys)

    def classify(self, rows: Prepared) -> tuple[BoolArray, BoolArray]:
        """Masks of the rows that are new and of those whose content changed."""
        n = len(rows)
        if not len(self.keys):
            return np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
        keys = _hashes(rows.external_ids)
        where = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        found = self.keys[where] == keys
        same = found & (self.contents[where] == _hashes(rows.content_hashes))
        return ~found, found & ~same


def _hashes(texts: Iterable[str]) -> npt.NDArray[np.int64]:
    # Python's string hash (SipHash) is seeded per process: fine, both sides of every
    # comparison are computed in the importing process.
    return np.fromiter(map(hash, texts), dtype=np.int64)


def _stored(community_id: int, source: str, keys: list[str]) -> dict[str, str]:
    """Content hashes of the given keys as stored now (an exact look-up, in chunks)."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), LOOKUP_CHUNK):
        found.update(
            Incident.objects.filter(
                community_id=community_id,
                source=source,
                external_id__in=keys[start : start + LOOKUP_CHUNK],
            )
            .order_by()
            .values_list("external_id", "content_hash")
        )
    return found


class _Writer:
    """What both database writers share: counts, ordering and the exact fallback."""

    def __init__(self, community_id: int, source: str) -> None:
        self.community_id = community_id
        self.source = source
        self.imported = 0
        self.updated = 0
        self.unchanged = 0
        table = Incident._meta.db_table
        self.quote = connection.ops.quote_name
        self.table = self.quote(table)

    # Whether new rows are written in key order. PostgreSQL fills its unique index
    # about twice as fast that way; SQLite gains too little to pay for the sort.
    sort_new = False

    def plan(self, rows: Prepared, new: BoolArray, changed: BoolArray) -> Planned:
        """Split a batch into its new and changed rows and encode the new ones.

        No database access: the importer may run this in its read-ahead thread.
        """
        unchanged = len(rows) - int(new.sum()) - int(changed.sum())
        fresh: Prepared | None = None
        if new.any():
            if self.sort_new:
                ids = rows.external_ids
                fresh = rows.take(sorted(np.flatnonzero(new).tolist(), key=ids.__getitem__))
            elif new.all():
                fresh = rows
            else:
                fresh = rows.take(np.flatnonzero(new).tolist())
        stale = rows.take(np.flatnonzero(changed).tolist()) if changed.any() else None
        encoded = self.encode(fresh) if fresh is not None else None
        return Planned(fresh, encoded, stale, unchanged)

    def apply(self, planned: Planned) -> None:
        """Write a planned batch: the new rows, then the changed ones."""
        self.unchanged += planned.unchanged
        if planned.new is not None:
            self.insert(planned.new, planned.encoded)
        if planned.changed is not None:
            self.upsert(planned.changed)

    def encode(self, rows: Prepared) -> Any:
        """New rows in the form :meth:`insert` sends them (pure: no database access)."""
        raise NotImplementedError

    def insert(self, rows: Prepared, encoded: Any) -> None:
        """Write rows believed new by the fastest path (``encoded``: from :meth:`encode`)."""
        raise NotImplementedError

    def upsert(self, rows: Prepared) -> None:
        """Write rows believed changed (now or at the next flush)."""
        raise NotImplementedError

    def upsert_now(self, rows: Prepared) -> int:
        """Upsert rows at once; returns how many the database inserted or updated."""
        raise NotImplementedError

    def flush(self) -> None:
        """Finish everything written so far (before a commit or progress report)."""

    def close(self) -> None:
        """Abandon whatever is still buffered (the transaction is being rolled back)."""

    def exact(self, rows: Prepared) -> None:
        """Write rows whose keys may exist after all: look them up, then upsert."""
        stored = _stored(self.community_id, self.source, rows.external_ids)
        new = [i for i, key in enumerate(rows.external_ids) if key not in stored]
        changed = [
            i
            for i, key in enumerate(rows.external_ids)
            if key in stored and stored[key] != rows.content_hashes[i]
        ]
        self.unchanged += len(rows) - len(new) - len(changed)
        written = self.upsert_now(rows.take(new + changed))
        self.imported += min(len(new), written)
        self.updated += max(0, written - len(new))

    def upsert_sql(self, source_sql: str) -> str:
        """``INSERT ... <source_sql> ON CONFLICT DO UPDATE`` changed content only."""
        quote = self.quote
        columns = ", ".join(quote(c) for c in INSERT_COLUMNS)
        assignments = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in UPDATE_COLUMNS)
        key = ", ".join(quote(c) for c in KEY_COLUMNS)
        # Identifiers come from model metadata; values are parameters or our own text.
        return (
            f"INSERT INTO {self.table} ({columns}) {source_sql} "
            f"ON CONFLICT ({key}) DO UPDATE SET {assignments} "
            f"WHERE {self.table}.{quote('content_hash')} <> excluded.{quote('content_hash')}"
        )


class SQLiteWriter(_Writer):
    """``executemany`` with constant columns written into the statement.

    SQLite converts every bound parameter of every row; columns that hold one value
    for the whole batch (the community, the import, timestamps, columns a format never
    fills) are literals instead, which saves about a third of the insert's time.
    """

    def __init__(self, community_id: int, source: str) -> None:
        super().__init__(community_id, source)
        self._statements: dict[tuple[Any, ...], str] = {}

    def encode(self, rows: Prepared) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        """SQL value expressions per column, and the bound values row by row."""
        expressions, bound = _sqlite_render(rows)
        return expressions, list(zip(*bound, strict=True))

    def _statement(self, expressions: tuple[str, ...], upsert: bool) -> str:
        signature = (upsert, *expressions)
        sql = self._statements.get(signature)
        if sql is None:
            values = f"VALUES ({', '.join(expressions)})"
            if upsert:
                sql = self.upsert_sql(values)
            else:
                columns = ", ".join(self.quote(c) for c in INSERT_COLUMNS)
                sql = f"INSERT INTO {self.table} ({columns}) {values}"
            self._statements[signature] = sql
        return sql

    def insert(self, rows: Prepared, encoded: Any) -> None:
        expressions, params = encoded
        sql = self._statement(expressions, upsert=False)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, params)
        except IntegrityError:
            self.exact(rows)
            return
        self.imported += len(rows)

    def upsert(self, rows: Prepared) -> None:
        self.updated += self.upsert_now(rows)

    def upsert_now(self, rows: Prepared) -> int:
        if not len(rows):
            return 0
        expressions, params = self.encode(rows)
        with connection.cursor() as cursor:
            cursor.executemany(self._statement(expressions, upsert=True), params)
            return max(0, cursor.rowcount)


def _sqlite_render(rows: Prepared) -> tuple[tuple[str, ...], list[list[Any]]]:
    """SQL value expressions per column (a literal or a parameter), and the bound
    columns' values."""
    expressions: list[str] = []
    bound: list[list[Any]] = []
    n = len(rows)
    for name in INSERT_COLUMNS:
        literal, values = _sqlite_values(rows.columns[name], n)
        if literal is not None:
            expressions.append(literal)
        else:
            expressions.append("%s")
            bound.append(values)
    return tuple(expressions), bound


def _sqlite_values(value: Any, n: int) -> tuple[str | None, list[Any]]:
    """A literal for a column that is the same in every row, else the row values."""
    if isinstance(value, Constant):
        constant = value.value
        if isinstance(constant, dt.datetime):
            constant = _sqlite_datetime(constant)
        literal = _sqlite_literal(constant)
        if literal is not None:
            return literal, []
        return None, [constant] * n
    if isinstance(value, list):
        if value and value[0] == "" and not any(value):
            return "''", []
        return None, value
    kind = value.dtype.kind
    if kind == "M":
        if np.isnat(value).all():
            return "NULL", []
        if value.dtype == np.dtype("datetime64[D]"):
            return None, np.datetime_as_string(value).tolist()
        return None, _datetime_texts(value)
    if kind == "f":
        missing = np.isnan(value)
        if missing.all():
            return "NULL", []
        values = value.tolist()
        if missing.any():
            for i in np.flatnonzero(missing).tolist():
                values[i] = None
        return None, values
    if kind == "b":
        return None, value.tolist()
    missing = value < 0
    if missing.all():
        return "NULL", []
    values = value.tolist()
    if missing.any():
        for i in np.flatnonzero(missing).tolist():
            values[i] = None
    return None, values


def _sqlite_literal(value: Any) -> str | None:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and _SAFE_LITERAL.fullmatch(value):
        return f"'{value}'"
    return None


def _sqlite_datetime(value: dt.datetime) -> str:
    # What Django's SQLite backend stores: naive UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]".
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def _datetime_texts(values: npt.NDArray[np.datetime64]) -> list[Any]:
    """``datetime64[us]`` as Django writes them to SQLite (None for NaT)."""
    missing = np.isnat(values)
    fraction = ~missing & (values.astype(np.int64) % 1_000_000 != 0)
    text = np.datetime_as_string(values, unit="us" if fraction.any() else "s")
    if fraction.any():
        # str(datetime) leaves out a zero fraction: so does Django, so do we.
        text = text.astype(object)
        text[~fraction] = np.array([t[:19] for t in text[~fraction]], dtype=object)
        text = text.astype(str)
    # "YYYY-MM-DDTHH:MM:SS" to "YYYY-MM-DD HH:MM:SS": the tenth character of each.
    chars = text.view(np.uint32).reshape(len(text), -1)
    chars[:, 10] = ord(" ")
    result: list[Any] = text.tolist()
    if missing.any():
        for i in np.flatnonzero(missing).tolist():
            result[i] = None
    return result


class PostgresWriter(_Writer):
    """``COPY`` new rows into the table over a stream kept open until :meth:`flush`.

    While the server checks constraints and fills indexes for one batch, the importer
    is already parsing the next. Changed rows go through a temporary staging table and
    one ``INSERT ... ON CONFLICT`` at the flush.
    """

    sort_new = True

    def __init__(self, community_id: int, source: str) -> None:
        super().__init__(community_id, source)
        self._copy_context: Any = None
        self._copy: Any = None
        self._savepoint: str | None = None
        self._sent: list[Prepared] = []
        self._changed: list[Prepared] = []
        self._foreign_keys: str | None = None
        self.columns_sql = ", ".join(self.quote(c) for c in INSERT_COLUMNS)

    def encode(self, rows: Prepared) -> bytes:
        return _copy_text(rows)

    def insert(self, rows: Prepared, encoded: Any) -> None:
        if self._copy is None:
            self._set_foreign_keys("IMMEDIATE")
            self._savepoint = transaction.savepoint()
            cursor = connection.cursor().cursor
            self._copy_context = cursor.copy(f"COPY {self.table} ({self.columns_sql}) FROM STDIN")
            self._copy = self._copy_context.__enter__()
        self._copy.write(encoded)
        # Kept until the stream is confirmed, in case a key turns out to exist.
        self._sent.append(rows)

    def upsert(self, rows: Prepared) -> None:
        if len(rows):
            self._changed.append(rows)

    def flush(self) -> None:
        if self._copy is not None:
            context, self._copy, self._copy_context = self._copy_context, None, None
            sent, self._sent = self._sent, []
            try:
                context.__exit__(None, None, None)
            except (IntegrityError, _unique_violation()):
                assert self._savepoint is not None
                transaction.savepoint_rollback(self._savepoint)
                for rows in sent:
                    self.exact(rows)
            else:
                assert self._savepoint is not None
                transaction.savepoint_commit(self._savepoint)
                self.imported += sum(len(rows) for rows in sent)
            self._savepoint = None
            self._set_foreign_keys("DEFERRED")
        if self._changed:
            changed, self._changed = self._changed, []
            self.updated += self._apply_changes(changed)

    def upsert_now(self, rows: Prepared) -> int:
        return self._apply_changes([rows]) if len(rows) else 0

    def _set_foreign_keys(self, mode: str) -> None:
        """Check the incident table's (deferrable) foreign keys row by row while the
        ``COPY`` streams, instead of all at the commit.

        The work is the same, but done while the importer parses the next batches
        rather than in a commit the importer waits for; and the server keeps no queue
        of pending checks. Only this transaction is affected, and only these keys.
        """
        if self._foreign_keys is None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass "
                    "AND contype = 'f' AND condeferrable AND condeferred ORDER BY conname",
                    [Incident._meta.db_table],
                )
                self._foreign_keys = ", ".join(self.quote(name) for (name,) in cursor.fetchall())
        if self._foreign_keys:
            with connection.cursor() as cursor:
                cursor.execute(f"SET CONSTRAINTS {self._foreign_keys} {mode}")

    def _apply_changes(self, batches: list[Prepared]) -> int:
        stage = self.quote("beacon_incident_stage")
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {self.columns_sql} FROM {self.table} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY {stage} ({self.columns_sql}) FROM STDIN") as copy:
                for rows in batches:
                    copy.write(_copy_text(rows))
            cursor.execute(self.upsert_sql(f"SELECT {self.columns_sql} FROM {stage}"))  # noqa: S608
            written = max(0, cursor.rowcount)
            cursor.execute(f"TRUNCATE {stage}")
        return written

    def close(self) -> None:
        """Abandon an open stream (the transaction is being rolled back anyway)."""
        if self._copy_context is not None:
            context, self._copy, self._copy_context = self._copy_context, None, None
            # The stream is dead either way; the transaction is rolled back by the caller.
            with contextlib.suppress(Exception):
                context.__exit__(RuntimeError, RuntimeError("import stopped"), None)


def _unique_violation() -> type[Exception]:
    # The COPY runs on the driver's cursor, outside Django's error translation.
    from psycopg.errors import UniqueViolation

    return UniqueViolation


def _copy_text(rows: Prepared) -> bytes:
    """The rows in ``COPY ... FROM STDIN`` text format.

    Columns with one text for every row (constants, columns a format never fills) are
    merged with their neighbours into single pieces, so each line joins fewer of them.
    """
    n = len(rows)
    pieces: list[str | list[str]] = []
    for name in INSERT_COLUMNS:
        value = _copy_values(rows.columns[name], n)
        if isinstance(value, str) and pieces and isinstance(pieces[-1], str):
            pieces[-1] = f"{pieces[-1]}\t{value}"
        else:
            pieces.append(value)
    columns = [[piece] * n if isinstance(piece, str) else piece for piece in pieces]
    lines = map("\t".join, zip(*columns, strict=True))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _copy_values(value: Any, n: int) -> str | list[str]:
    r"""One column as COPY text (``\N`` for none): one text when every row has the same
    (a constant, or a column with no values), else a list."""
    if isinstance(value, Constant):
        constant = value.value
        if constant is None:
            return r"\N"
        if isinstance(constant, bool):
            return "t" if constant else "f"
        if isinstance(constant, dt.datetime):
            return constant.isoformat()
        return str(constant).translate(_COPY_ESCAPES)
    if isinstance(value, list):
        if value and value[0] == "" and not any(value):
            return ""
        return _escaped(value)
    kind = value.dtype.kind
    if kind == "M":
        missing = np.isnat(value)
        if missing.all():
            return r"\N"
        if value.dtype == np.dtype("datetime64[D]"):
            # Few distinct dates (months, days): format each once.
            distinct, inverse = np.unique(value, return_inverse=True)
            texts = np.datetime_as_string(distinct).tolist()
            return [texts[i] for i in inverse.tolist()]
        # The coarsest unit that loses nothing: whole minutes format twice as fast.
        ticks = value[~missing].astype(np.int64)
        whole_minutes = not (ticks % 60_000_000).any()
        texts = np.datetime_as_string(value, unit="m" if whole_minutes else "us", timezone="UTC")
        if missing.any():
            return np.where(missing, r"\N", texts).tolist()
        return texts.tolist()
    if kind == "f":
        missing = np.isnan(value)
        if missing.all():
            return r"\N"
        texts = list(map(repr, value.tolist()))
        for i in np.flatnonzero(missing).tolist():
            texts[i] = r"\N"
        return texts
    if kind == "b":
        if value.all():
            return "t"
        if not value.any():
            return "f"
        return np.where(value, "t", "f").tolist()
    missing = value < 0
    if missing.all():
        return r"\N"
    texts = list(map(str, value.tolist()))
    for i in np.flatnonzero(missing).tolist():
        texts[i] = r"\N"
    return texts


def _escaped(values: list[str]) -> list[str]:
    """Text values with COPY's special characters escaped (rare: checked per column)."""
    joined = "\x1f".join(values)
    if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
        return [v.translate(_COPY_ESCAPES) for v in values]
    return values


def writer_for(community_id: int, source: str) -> SQLiteWriter | PostgresWriter:
    """The bulk writer for the current database."""
    if connection.vendor == "postgresql":
        return PostgresWriter(community_id, source)
    return SQLiteWriter(community_id, source)
