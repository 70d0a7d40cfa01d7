from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.youth.services import purge_expired, retention_days


class Command(BaseCommand):
    help = (
        "Delete mentees' records a retention period (BEACON_YOUTH_RETENTION_DAYS, default "
        "365) after they left the program. Run daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", default="", help="Pretend today is this date.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["today"]:
            try:
                today = date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError("--today must be a date like 2025-01-31.") from None
        deleted = purge_expired(today)
        self.stdout.write(
            f"Deleted {deleted} mentee record{'s' if deleted != 1 else ''} "
            f"(retention {retention_days()} days)."
        )
