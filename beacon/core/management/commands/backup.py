from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.core.audit import record_event
from beacon.core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Write a consistent backup of the database and uploaded media to a folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            type=Path,
            default=None,
            help="Folder to create (default: var/backups/beacon-<UTC time>).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = options["out"] or Path(settings.VAR_DIR) / "backups" / f"beacon-{stamp}"
        try:
            result = create_backup(folder)
        except (BackupError, FileExistsError) as exc:
            raise CommandError(str(exc)) from None
        rows = sum(t["rows"] for t in result.manifest["tables"].values())
        record_event(
            action="export", object_type="backup", object_id=folder.name, detail={"rows": rows}
        )
        self.stdout.write(f"Backup written to {folder} ({rows} rows, media included).")
