"""The restore drill: back up, restore into a fresh database, compare every table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from beacon.core.audit import record_event
from beacon.core.backup import BackupError, create_backup, read_manifest, restore_backup
from beacon.core.testing import NORTH_BOX, make_community

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Any:
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_restore"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    user = settings_dict.get("USER") or "postgres"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    yield f"postgres://{user}@{host}:{port}/{name}"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_restores_every_row_and_file(
    tmp_path: Path, settings: Any, fresh_database_url: str
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "photos").mkdir(parents=True)
    (tmp_path / "media" / "photos" / "a.jpg").write_bytes(b"not really a photo")
    make_community("north", NORTH_BOX)
    for i in range(3):
        record_event(action="test", object_id=i)
    result = create_backup(tmp_path / "backup")
    manifest = result.manifest
    assert manifest["tables"]["core_area"]["rows"] == 4
    (tmp_path / "media" / "photos" / "a.jpg").unlink()
    summary = restore_backup(tmp_path / "backup", fresh_database_url)
    assert summary["rows"] == sum(t["rows"] for t in manifest["tables"].values())
    assert (tmp_path / "media" / "photos" / "a.jpg").read_bytes() == b"not really a photo"
    # A restored database holding data is not overwritten by accident.
    with pytest.raises(BackupError, match="already holds data"):
        restore_backup(tmp_path / "backup", fresh_database_url)


def test_damaged_backup_is_refused(tmp_path: Path, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    make_community("north", NORTH_BOX)
    create_backup(tmp_path / "backup")
    database_file = read_manifest(tmp_path / "backup")["database_file"]
    with (tmp_path / "backup" / database_file).open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00garbage\x00")
    with pytest.raises(BackupError, match="damaged"):
        read_manifest(tmp_path / "backup")
    with pytest.raises(CommandError, match="damaged"):
        call_command("restore", str(tmp_path / "backup"), database_url="sqlite:///x")
