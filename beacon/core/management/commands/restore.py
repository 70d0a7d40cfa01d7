from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore a backup folder into a database (an empty one unless --force)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument(
            "--database-url",
            default=None,
            help="Target database (default: DATABASE_URL, Beacon's own database).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Replace a database that already holds data."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["database_url"] or settings.DATABASE_URL
        try:
            summary = restore_backup(options["folder"], url, force=options["force"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Restored {summary['rows']} rows in {summary['tables']} tables; "
            "every table's count and checksum matches the backup."
        )
