from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from beacon.core.models import Community
from beacon.incidents.formats import FORMATS, GENERIC_KEYS
from beacon.incidents.importer import (
    ON_ERROR,
    FormatError,
    ImportAbortedError,
    ImportOptions,
    ImportSummary,
    import_incidents,
)

SHOWN_REJECTIONS = 50


class Command(BaseCommand):
    help = (
        "Import official incidents from a CSV file. Re-importing updates rows by their id "
        "(or content key) instead of duplicating them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--community", required=True, help="Community slug.")
        parser.add_argument("--format", dest="fmt", required=True, choices=FORMATS)
        parser.add_argument("--source", default="", help="Source name (default: the format).")
        parser.add_argument("--crs", help="CRS of projected x/y, e.g. EPSG:26910.")
        parser.add_argument("--on-error", choices=ON_ERROR, default="skip")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="KEY=COLUMN",
            help=f"Generic format column mapping; keys: {', '.join(sorted(GENERIC_KEYS))}.",
        )
        parser.add_argument("--time-format", default="iso", help="iso, date, month or strptime.")
        parser.add_argument("--delimiter", default=",")
        parser.add_argument("--encoding", default="utf-8-sig")
        parser.add_argument("--default-offence", help="Offence code for unknown categories.")
        parser.add_argument(
            "--batch-size", type=int, default=10_000, help="Rows parsed and written at a time."
        )
        parser.add_argument(
            "--no-publish", action="store_true", help="Do not rebuild the public data afterwards."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=cast(Any, self.stdout), highlight=False)
        community = Community.objects.filter(slug=options["community"]).first()
        if community is None:
            raise CommandError(f"No community with slug {options['community']!r}.")
        mapping: dict[str, str] = {}
        for item in options["map"]:
            key, sep, column = item.partition("=")
            if not sep:
                raise CommandError(f"--map {item!r}: write KEY=COLUMN")
            mapping[key.strip()] = column.strip()
        try:
            import_options = ImportOptions(
                fmt=options["fmt"],
                source=options["source"],
                crs=options["crs"],
                mapping=mapping,
                time_format=options["time_format"],
                delimiter=options["delimiter"],
                encoding=options["encoding"],
                on_error=options["on_error"],
                default_offence=options["default_offence"],
                batch_size=max(100, options["batch_size"]),
            )
        except FormatError as exc:
            raise CommandError(str(exc)) from None
        started = time.monotonic()
        progress = Progress(
            TextColumn("[bold]Importing"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=options["verbosity"] == 0,
        )
        try:
            with progress:
                task = progress.add_task("import", total=None)

                def update(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                summary = import_incidents(
                    community,
                    options["path"],
                    import_options,
                    progress=update,
                    publish=False,
                )
        except FormatError as exc:
            raise CommandError(f"Nothing was imported: {exc}") from None
        except ImportAbortedError as exc:
            self._report(console, exc.summary, time.monotonic() - started)
            raise CommandError(
                f"Aborted: {exc.summary.rejected} bad row(s); the database was not changed."
            ) from None
        self._report(console, summary, time.monotonic() - started)
        if not options["no_publish"] and (summary.imported or summary.updated):
            from beacon.incidents.privacy import publish_community

            console.print("Publishing the masked public data…")
            result = publish_community(community)
            console.print(
                f"Published {result.incidents} incidents in {result.units} units at "
                f"{result.points} masked points, months before {result.published_through:%Y-%m}."
            )

    def _report(self, console: Console, summary: ImportSummary, seconds: float) -> None:
        table = Table(title=f"Import summary ({seconds:.1f} s)")
        for column in ("imported", "updated", "unchanged", "rejected", "mapped", "unmapped"):
            table.add_column(column, justify="right")
        counts = summary.counts()
        table.add_row(
            *(
                str(counts[c])
                for c in ("imported", "updated", "unchanged", "rejected", "mapped", "unmapped")
            )
        )
        console.print(table)
        if summary.rejections:
            rejected = Table(title="Rejected rows")
            rejected.add_column("line", justify="right")
            rejected.add_column("reason")
            for line, reason in summary.rejections[:SHOWN_REJECTIONS]:
                rejected.add_row(str(line), reason)
            console.print(rejected)
            if summary.rejected > SHOWN_REJECTIONS:
                console.print(f"… and {summary.rejected - SHOWN_REJECTIONS} more.")
