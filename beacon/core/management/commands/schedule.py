"""``beacon schedule``: list the periodic jobs, or run those that are due."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from beacon.core import schedule
from beacon.core.models import ScheduledJob


class Command(BaseCommand):
    help = "List periodic jobs and when they last ran; --once runs the due ones (for cron)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run the jobs that are due.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            ran = schedule.run_due()
            self.stdout.write(f"Ran {len(ran)} job{'s' if len(ran) != 1 else ''}: {', '.join(ran)}")
            return
        rows = {row.name: row for row in ScheduledJob.objects.all()}
        for job in schedule.registered_jobs():
            row = rows.get(job.name)
            last = (
                row.last_started_at.isoformat(timespec="seconds")
                if row and row.last_started_at
                else "never"
            )
            status = row.last_status if row else "never"
            self.stdout.write(f"{job.name:40} every {job.every}  last {last}  {status}")
