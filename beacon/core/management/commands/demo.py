from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.table import Table

from beacon.core.demo import area_count, build_demo, demo_users_table


class Command(BaseCommand):
    help = "Build the demo community (City of Vancouver) if it is absent, and print its users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data-dir", type=Path, help="Folder with the real crime data.")
        parser.add_argument(
            "--show-users", action="store_true", help="Print the demo users even if it exists."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=cast(Any, self.stdout), highlight=False, width=120)
        started = time.monotonic()
        result = build_demo(options["data_dir"], progress=lambda m: console.print(f"· {m}"))
        for note in result.notes:
            console.print(f"[yellow]{note}[/yellow]")
        if not result.created:
            console.print(f"The demo community {result.community.slug!r} exists already.")
        else:
            counts = area_count(result.community)
            console.print(
                f"Built {result.community.name} in {time.monotonic() - started:.1f} s: "
                + ", ".join(f"{n} {k}s" for k, n in counts.items())
            )
        if result.created or options["show_users"]:
            table = Table(title="Demo users (sign in at /accounts/login/)")
            for column in ("email", "role", "password", "TOTP secret"):
                table.add_column(column)
            for row in demo_users_table():
                table.add_row(*row)
            console.print(table)
