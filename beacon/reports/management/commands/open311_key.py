from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.core.models import Community
from beacon.reports.open311 import create_key


class Command(BaseCommand):
    help = "Manage Open311 API keys of partner applications."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a key and print it once.")
        create.add_argument("--community", required=True, help="The community's slug.")
        create.add_argument("--name", required=True, help="The partner application's name.")

    def handle(self, *args: Any, **options: Any) -> None:
        community = Community.objects.filter(slug=options["community"]).first()
        if community is None:
            raise CommandError(f"No community with slug {options['community']!r}.")
        name = options["name"].strip()
        if not name:
            raise CommandError("--name must not be empty.")
        key, raw = create_key(community, name)
        self.stderr.write(
            f"Created Open311 key {key.prefix}… for {name!r} in {community.slug}. "
            "It is shown once; only its digest is stored."
        )
        self.stdout.write(raw)
