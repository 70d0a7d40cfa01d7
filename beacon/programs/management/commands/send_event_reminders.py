from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from beacon.programs.services import send_due_reminders


class Command(BaseCommand):
    help = "Email reminders for event sessions starting within 24 hours (safe to run often)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            default="",
            help="Pretend it is this ISO 8601 time (with a UTC offset); for testing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = None
        if options["now"]:
            now = parse_datetime(options["now"])
            if now is None or now.tzinfo is None:
                raise CommandError("--now must be an ISO 8601 time with a UTC offset.")
        sent = send_due_reminders(now)
        self.stdout.write(f"Sent {sent} reminder{'s' if sent != 1 else ''}.")
