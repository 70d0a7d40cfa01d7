from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.core.models import AreaKind, Community
from beacon.core.services import AreaImportError, import_areas, load_feature_collection


class Command(BaseCommand):
    help = "Import neighbourhoods, beats or districts from a GeoJSON file (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--community", required=True, help="Community slug.")
        parser.add_argument("--kind", required=True, choices=AreaKind.values)
        parser.add_argument(
            "--name-property",
            default="name",
            help="Feature property holding the area name (default: name).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        community = Community.objects.filter(slug=options["community"]).first()
        if community is None:
            raise CommandError(f"No community with slug {options['community']!r}.")
        try:
            features = load_feature_collection(options["file"])
            result = import_areas(
                community, options["kind"], features, name_property=options["name_property"]
            )
        except AreaImportError as exc:
            lines = "\n".join(f"  - {p}" for p in exc.problems)
            raise CommandError(
                f"Nothing was imported; fix these problems and try again:\n{lines}"
            ) from None
        self.stdout.write(
            f"Imported {len(result.created)} new and updated {len(result.updated)} "
            f"{options['kind']} areas in {community.slug}."
        )
