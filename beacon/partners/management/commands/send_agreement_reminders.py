from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.partners.services import send_renewal_reminders


class Command(BaseCommand):
    help = "Email renewal reminders for partner agreements about to expire (run daily)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--on", default="", help="Pretend today is this date (YYYY-MM-DD).")

    def handle(self, *args: Any, **options: Any) -> None:
        on = None
        if options["on"]:
            try:
                on = date.fromisoformat(options["on"])
            except ValueError:
                raise CommandError("--on must be a date like 2025-01-31.") from None
        sent = send_renewal_reminders(on)
        self.stdout.write(f"Sent {sent} renewal reminder{'s' if sent != 1 else ''}.")
