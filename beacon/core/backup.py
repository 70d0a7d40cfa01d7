"""Consistent backups of the database and uploaded media, and their restore.

SQLite is copied with SQLite's online backup API, PostgreSQL with ``pg_dump`` (both
read one consistent snapshot while Beacon keeps serving). The backup folder holds a
``manifest.json`` with the SHA-256 of every file and a row count and checksum for
every table, so a restore can prove it brought back exactly what was saved.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dj_database_url
from django.apps import apps
from django.conf import settings
from django.db import connections

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
MEDIA_FILE = "media.tar"


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _model_tables() -> list[tuple[str, str]]:
    tables: dict[str, str] = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        tables[model._meta.db_table] = str(model._meta.pk.column)
    return sorted(tables.items())


def table_checksums(cursor: Any) -> dict[str, dict[str, Any]]:
    """Row count and a SHA-256 over the rows (in primary-key order) of every model table.

    Takes a plain DB-API cursor so the same code checks Beacon's own database and a
    restore target that Django has no connection for.
    """
    result: dict[str, dict[str, Any]] = {}
    for table, pk in _model_tables():
        digest = hashlib.sha256()
        count = 0
        # Table and column names come from the models, never from input.
        cursor.execute(f'SELECT * FROM "{table}" ORDER BY "{pk}"')  # noqa: S608
        while rows := cursor.fetchmany(5000):
            for row in rows:
                digest.update(repr(tuple(row)).encode())
                count += 1
        result[table] = {"rows": count, "sha256": digest.hexdigest()}
    return result


def _connect(settings_dict: dict[str, Any]) -> Any:
    """A plain DB-API connection to the database Django would reach with ``settings_dict``."""
    if "sqlite" in settings_dict["ENGINE"]:
        return sqlite3.connect(settings_dict["NAME"])
    import psycopg

    return psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        autocommit=True,
    )


def _pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return env


def _pg_args(settings_dict: dict[str, Any]) -> list[str]:
    args = []
    if settings_dict.get("HOST"):
        args += ["-h", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["-p", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["-U", str(settings_dict["USER"])]
    return args


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, env=env, timeout=3600)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools).") from None
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"{command[0]} failed: {exc.stderr.decode(errors='replace')}") from None


@dataclass(frozen=True)
class BackupResult:
    folder: Path
    manifest: dict[str, Any]


def create_backup(folder: Path, alias: str = "default") -> BackupResult:
    """Write a consistent snapshot of the database and the media folder into ``folder``.

    The checksums in the manifest are taken from the very snapshot that is saved: the
    SQLite copy itself, or the PostgreSQL snapshot ``pg_dump`` is pointed at.
    """
    folder.mkdir(parents=True, exist_ok=False)
    connection = connections[alias]
    vendor = connection.vendor
    settings_dict = connection.settings_dict
    if vendor == "sqlite":
        connection.ensure_connection()
        copy = sqlite3.connect(folder / SQLITE_FILE)
        try:
            connection.connection.backup(copy)
            tables = table_checksums(copy.cursor())
        finally:
            copy.close()
        database_file = SQLITE_FILE
    elif vendor == "postgresql":
        raw = _connect(settings_dict)
        try:
            raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = raw.execute("SELECT pg_export_snapshot()").fetchone()[0]
            _run(
                [
                    "pg_dump",
                    "-Fc",
                    "--no-owner",
                    f"--snapshot={snapshot}",
                    "-f",
                    str(folder / PG_FILE),
                    *_pg_args(settings_dict),
                    str(settings_dict["NAME"]),
                ],
                _pg_env(settings_dict),
            )
            tables = table_checksums(raw.cursor())
            raw.execute("COMMIT")
        finally:
            raw.close()
        database_file = PG_FILE
    else:
        raise BackupError(f"backups of {vendor} databases are not supported")
    media_root = Path(settings.MEDIA_ROOT)
    with tarfile.open(folder / MEDIA_FILE, "w") as archive:
        if media_root.exists():
            archive.add(media_root, arcname="media")
    manifest = {
        "format": 1,
        "created_at": datetime.now(UTC).isoformat(),
        "engine": vendor,
        "database_file": database_file,
        "files": {name: _sha256(folder / name) for name in (database_file, MEDIA_FILE)},
        "tables": tables,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return BackupResult(folder, manifest)


def read_manifest(folder: Path) -> dict[str, Any]:
    """Load a backup's manifest and check every file against its recorded SHA-256."""
    path = folder / MANIFEST
    if not path.exists():
        raise BackupError(f"{folder} is not a Beacon backup (no {MANIFEST})")
    manifest: dict[str, Any] = json.loads(path.read_text())
    for name, expected in manifest["files"].items():
        if not (folder / name).exists():
            raise BackupError(f"{name} is missing from the backup")
        if _sha256(folder / name) != expected:
            raise BackupError(f"{name} does not match its checksum: the backup is damaged")
    return manifest


def _holds_data(raw: Any) -> bool:
    cursor = raw.cursor()
    try:
        cursor.execute("SELECT 1 FROM core_community LIMIT 1")
    except Exception:  # no such table: a fresh database
        raw.rollback()
        return False
    return cursor.fetchone() is not None


def restore_backup(folder: Path, database_url: str, *, force: bool = False) -> dict[str, Any]:
    """Restore ``folder`` into the database at ``database_url`` and the media folder.

    Refuses to overwrite a database holding a community unless ``force``. After the
    restore, every table's row count and checksum must equal the manifest's.
    """
    manifest = read_manifest(folder)
    target: dict[str, Any] = dict(dj_database_url.parse(database_url))
    engine = "sqlite" if "sqlite" in target["ENGINE"] else "postgresql"
    if engine != manifest["engine"]:
        raise BackupError(f"the backup is of a {manifest['engine']} database, not {engine}")
    raw = _connect(target)
    try:
        if not force and _holds_data(raw):
            raise BackupError("the target database already holds data; use --force to replace it")
    finally:
        raw.close()
    if engine == "sqlite":
        source = sqlite3.connect(folder / SQLITE_FILE)
        destination = sqlite3.connect(target["NAME"])
        try:
            source.backup(destination)
        finally:
            source.close()
            destination.close()
    else:
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "-d",
                str(target["NAME"]),
                *_pg_args(target),
                str(folder / PG_FILE),
            ],
            _pg_env(target),
        )
    _restore_media(folder)
    raw = _connect(target)
    try:
        restored = table_checksums(raw.cursor())
    finally:
        raw.close()
    mismatched = [
        table for table, expected in manifest["tables"].items() if restored.get(table) != expected
    ]
    if mismatched:
        raise BackupError(f"restored tables differ from the backup: {', '.join(mismatched)}")
    return {"tables": len(restored), "rows": sum(t["rows"] for t in restored.values())}


def _restore_media(folder: Path) -> None:
    media_root = Path(settings.MEDIA_ROOT)
    with tarfile.open(folder / MEDIA_FILE) as archive:
        members = [m for m in archive.getmembers() if m.name.split("/")[0] == "media"]
        if not members:
            return
        staging = media_root.parent / f".restore-{os.getpid()}"
        archive.extractall(staging, members=members, filter="data")
    if media_root.exists():
        shutil.rmtree(media_root)
    (staging / "media").rename(media_root)
    shutil.rmtree(staging, ignore_errors=True)
