from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from beacon.core import schedule


class Command(BaseCommand):
    help = "Run the background worker (queued tasks and the periodic jobs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between polls when idle."
        )
        parser.add_argument("--batch", action="store_true", help="Run the queued tasks, then exit.")
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument(
            "--no-schedule",
            action="store_true",
            help="Do not run the periodic jobs in this worker (run `beacon schedule --once`).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        extra: dict[str, Any] = {
            "interval": options["interval"],
            "startup_delay": False,
            "reload": False,
        }
        if options["batch"]:
            extra["batch"] = True
        if options["max_tasks"] is not None:
            extra["max_tasks"] = options["max_tasks"]
        if not options["batch"] and not options["no_schedule"]:
            schedule.start_in_thread()
        call_command("db_worker", **extra)
