from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.core.audit import verify_chain


class Command(BaseCommand):
    help = "Audit log tools. 'verify' checks the hash chain and names the first broken row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("operation", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at row id {report.first_broken_id}: {report.reason} "
                f"({report.rows_checked} rows before it verified)."
            )
        self.stdout.write(f"Audit chain intact: {report.rows_checked} rows verified.")
