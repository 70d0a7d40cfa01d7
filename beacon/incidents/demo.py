"""The demo community's incidents: Vancouver 2020, imported through the real importer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.utils import timezone

from beacon.core.models import Community
from beacon.incidents.importer import ImportOptions, import_incidents
from beacon.incidents.privacy import publish_community

VANCOUVER_FILE = Path("vancouver_2020") / "crimedata_csv_AllNeighbourhoods_2020.csv"


def build_demo(community: Community, data_dir: Path, progress: Callable[[str], None]) -> None:
    """Import the VPD 2020 open data into the demo community and publish it."""
    path = Path(data_dir) / VANCOUVER_FILE
    if not path.exists():
        progress(f"{path} not found: the demo has no official incidents.")
        return
    progress(f"Importing incidents from {path}")
    summary = import_incidents(
        community,
        path,
        # The source is the format's name, as the import command and the upload page
        # default to, so re-importing the file by hand updates these rows.
        ImportOptions(fmt="vancouver", batch_size=20_000),
        publish=False,
    )
    progress(f"Incidents: {summary.line()}")
    result = publish_community(community, now=timezone.now())
    progress(
        f"Published {result.incidents} incidents at {result.points} masked points "
        f"(months before {result.published_through:%Y-%m})"
    )
