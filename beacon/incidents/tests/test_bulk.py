"""The vectorised parts of the importer against their one-at-a-time definitions, and the
bulk writer's recovery when a key it took for new exists after all."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import zoneinfo
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from django.db import transaction
from django.utils import timezone
from h3.api import basic_int as h3i

from beacon.core.models import Area, AreaKind
from beacon.core.testing import NORTH_BOX, BeaconTestCase
from beacon.incidents import importer
from beacon.incidents.bulkwrite import writer_for
from beacon.incidents.formats import IncidentReader
from beacon.incidents.importer import ImportAbortedError, ImportOptions, import_incidents
from beacon.incidents.models import Incident, IncidentImport
from beacon.incidents.preparation import AreaLocator, Batcher, cell_parents
from beacon.incidents.rowbatch import ZoneClock, int_column

WEST, SOUTH, EAST, NORTH = NORTH_BOX


def test_cell_parents_match_h3() -> None:
    rng = random.Random(3)
    points = [(rng.uniform(-80, 80), rng.uniform(-180, 180)) for _ in range(300)]
    for resolution in (10, 13, 15):
        cells = np.array([h3i.latlng_to_cell(a, b, resolution) for a, b in points])
        for parent in (0, 5, 9, resolution - 1):
            expected = [h3i.cell_to_parent(int(c), parent) for c in cells]
            assert cell_parents(cells, parent).tolist() == expected


@pytest.mark.parametrize("zone", ["America/Vancouver", "Europe/London", "America/Santiago"])
def test_zone_clock_matches_zoneinfo_across_transitions(zone: str) -> None:
    tz = zoneinfo.ZoneInfo(zone)
    # Every 20 minutes through 2024: every transition, gaps and repeats included.
    start = dt.datetime(2024, 1, 1)
    local = [start + dt.timedelta(minutes=20 * i) for i in range(366 * 72)]
    converted = ZoneClock(tz).to_utc(np.array(local, dtype="datetime64[us]"))
    expected = [v.replace(tzinfo=tz).astimezone(dt.UTC).replace(tzinfo=None) for v in local]
    assert converted.astype(object).tolist() == expected


def test_int_column_follows_int() -> None:
    values, bad = int_column(["7", " 8 ", "", "x", "1.5", "٣"], empty=-1)
    assert values.tolist()[:3] == [7, 8, -1] and values[5] == 3
    assert bad.tolist() == [False, False, False, True, True, False]


class LocatorTests(BeaconTestCase):
    def test_areas_found_for_many_points_contain_them(self) -> None:
        from shapely import Point

        from beacon.core import geo

        locator = AreaLocator(self.community)
        rng = random.Random(5)
        lat = np.array([rng.uniform(SOUTH - 0.005, NORTH + 0.005) for _ in range(400)])
        lon = np.array([rng.uniform(WEST - 0.005, EAST + 0.005) for _ in range(400)])
        cells9 = np.array(
            [h3i.latlng_to_cell(a, b, geo.H3_RESOLUTION) for a, b in zip(lat, lon, strict=True)]
        )
        for kind in (AreaKind.NEIGHBOURHOOD, AreaKind.BEAT):
            areas = {
                a.pk: geo.parse_area_geometry(a.geometry)
                for a in Area.objects.filter(community=self.community, kind=kind)
            }
            found = locator.locate_many(kind, cells9, lat, lon)
            for a, b, area in zip(lat.tolist(), lon.tolist(), found.tolist(), strict=True):
                holding = sorted(pk for pk, shape in areas.items() if shape.covers(Point(b, a)))
                if area > 0:
                    assert area in holding
                else:
                    assert not holding


HEADER = "id,occurred_at,category,lat,lon\n"


def rows(count: int, category: str = "Burglary", prefix: str = "r", first: int = 0) -> str:
    return "".join(
        f"{prefix}{i},2024-03-{1 + i % 28:02d}T10:{i % 60:02d}:00,{category},"
        f"{SOUTH + 0.002 + (i % 97) * 0.0001:.6f},{WEST + 0.002 + (i % 89) * 0.0002:.6f}\n"
        for i in range(first, first + count)
    )


class BulkImportTests(BeaconTestCase):
    def setUp(self) -> None:
        self.folder = Path(tempfile.mkdtemp())

    def file(self, text: str) -> Path:
        path = self.folder / "in.csv"
        path.write_text(text, encoding="utf-8")
        return path

    def run_import(self, text: str, **options: object) -> importer.ImportSummary:
        return import_incidents(
            self.community,
            self.file(text),
            ImportOptions(fmt="beacon", batch_size=100, **options),  # type: ignore[arg-type]
            publish=False,
        )

    def test_many_chunks_commit_or_roll_back_as_chosen(self) -> None:
        with mock.patch.object(importer, "CHUNK_ROWS", 150):
            summary = self.run_import(HEADER + rows(1000) + "bad,nope,Burglary,49.27,-123.12\n")
            assert (summary.imported, summary.rejected) == (1000, 1)
            assert Incident.objects.filter(community=self.community).count() == 1000
            assert summary.import_id is not None
            record = IncidentImport.objects.get(pk=summary.import_id)
            assert record.imported == 1000 and record.processed_bytes == record.total_bytes
            before = list(Incident.objects.order_by("pk").values())
            changed = rows(1000, category="Robbery") + rows(1300, prefix="s")
            with pytest.raises(ImportAbortedError):
                self.run_import(
                    HEADER + changed + "bad,nope,Burglary,49.27,-123.12\n", on_error="abort"
                )
            assert list(Incident.objects.order_by("pk").values()) == before
            summary = self.run_import(HEADER + changed)
            assert (summary.imported, summary.updated, summary.unchanged) == (1300, 1000, 0)

    def test_keys_that_exist_after_all_are_upserted_not_doubled(self) -> None:
        # Another import stored these keys after this one loaded the source's keys:
        # the writer is told every row is new and must recover on the unique constraint.
        self.run_import(HEADER + rows(50))
        # r0-r2 changed, r3-r49 the same, q0-q19 new.
        text = HEADER + rows(3, "Robbery") + rows(47, first=3) + rows(20, prefix="q")
        reader = IncidentReader(self.file(text), "beacon", tz=self.community.timezone)
        record = IncidentImport.objects.create(
            community=self.community, fmt="beacon", source="beacon"
        )
        batcher = Batcher(self.community, ImportOptions(fmt="beacon"), record, frozenset())
        writer = writer_for(self.community.pk, "beacon")
        rejections: list[tuple[int, str]] = []
        with transaction.atomic():
            for batch in reader.row_batches(1000):
                prepared = batcher.prepare(batch, rejections, timezone.now())
                assert prepared is not None
                everything = np.ones(len(prepared), dtype=bool)
                writer.apply(writer.plan(prepared, everything, ~everything))
            writer.flush()
        keys = list(
            Incident.objects.filter(community=self.community).values_list("external_id", flat=True)
        )
        assert len(keys) == len(set(keys))
        assert set(keys) == {f"r{i}" for i in range(50)} | {f"q{i}" for i in range(20)}
        assert (writer.imported, writer.updated, writer.unchanged) == (20, 3, 47)
        assert Incident.objects.filter(community=self.community, offence="robbery").count() == 3
