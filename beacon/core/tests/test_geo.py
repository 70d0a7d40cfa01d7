from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from beacon.core import geo
from beacon.core.models import Area, AreaCell, AreaKind
from beacon.core.services import area_at, save_area
from beacon.core.testing import NORTH_BOX, BeaconTestCase, box_polygon, make_community

WEST, SOUTH, EAST, NORTH = NORTH_BOX


def test_unclosed_ring_is_refused() -> None:
    ring = [[0, 0], [1, 0], [1, 1], [0, 1]]
    with pytest.raises(geo.GeometryError, match="not closed"):
        geo.parse_area_geometry({"type": "Polygon", "coordinates": [ring]})


def test_self_intersecting_polygon_is_refused() -> None:
    bowtie = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]
    with pytest.raises(geo.GeometryError, match="Self-intersection"):
        geo.parse_area_geometry({"type": "Polygon", "coordinates": [bowtie]})


def test_out_of_bounds_position_is_named() -> None:
    ring = [[0, 0], [200, 0], [1, 1], [0, 0]]
    with pytest.raises(geo.GeometryError, match="position 1"):
        geo.parse_area_geometry({"type": "Polygon", "coordinates": [ring]})


def test_wrong_type_is_refused() -> None:
    with pytest.raises(geo.GeometryError, match="LineString"):
        geo.parse_area_geometry({"type": "LineString", "coordinates": [[0, 0], [1, 1]]})


def test_cover_holds_every_cell_the_polygon_touches() -> None:
    shape = geo.parse_area_geometry(box_polygon(WEST, SOUTH, EAST, NORTH))
    cover = geo.h3_cover(shape)
    assert cover.interior and cover.edge
    for i in range(25):
        for j in range(25):
            lon = WEST + (EAST - WEST) * i / 24
            lat = SOUTH + (NORTH - SOUTH) * j / 24
            assert geo.point_cell(lat, lon) in cover.interior | cover.edge
    for cell in cover.interior:
        assert shape.contains(geo.cell_polygon(cell))


class AreaLookupTests(BeaconTestCase):
    def test_inside_each_beat(self) -> None:
        west = area_at(self.community, AreaKind.BEAT, 49.27, WEST + 0.005)
        east = area_at(self.community, AreaKind.BEAT, 49.27, EAST - 0.005)
        assert west is not None and west.name == "West beat"
        assert east is not None and east.name == "East beat"

    def test_outside_the_community(self) -> None:
        assert area_at(self.community, AreaKind.BEAT, 49.30, -123.125) is None
        assert area_at(self.community, AreaKind.BEAT, 0.0, 0.0) is None

    def test_on_the_shared_edge_gives_one_answer(self) -> None:
        middle = (WEST + EAST) / 2
        area = area_at(self.community, AreaKind.BEAT, 49.27, middle)
        assert area is not None
        assert area.name == "West beat"  # the lower id wins on a shared edge

    def test_in_a_hole(self) -> None:
        outer = box_polygon(WEST, SOUTH, EAST, NORTH)["coordinates"][0]
        hole = [
            [-123.13, 49.265],
            [-123.12, 49.265],
            [-123.12, 49.275],
            [-123.13, 49.275],
            [-123.13, 49.265],
        ]
        save_area(
            self.community,
            AreaKind.DISTRICT,
            "Ring",
            {"type": "Polygon", "coordinates": [outer, hole]},
        )
        assert area_at(self.community, AreaKind.DISTRICT, 49.27, -123.125) is None
        ring = area_at(self.community, AreaKind.DISTRICT, 49.262, -123.125)
        assert ring is not None and ring.name == "Ring"

    def test_lookup_is_one_query_on_interior_cells(self) -> None:
        with self.assertNumQueries(1):
            area_at(self.community, AreaKind.BEAT, 49.27, WEST + 0.005)

    def test_area_outside_community_is_refused(self) -> None:
        with pytest.raises(geo.GeometryError, match="outside the community"):
            save_area(self.community, AreaKind.BEAT, "Far", box_polygon(0, 0, 1, 1))

    @settings(max_examples=60, deadline=None)
    @given(
        lon=st.floats(min_value=WEST - 0.01, max_value=EAST + 0.01),
        lat=st.floats(min_value=SOUTH - 0.01, max_value=NORTH + 0.01),
    )
    def test_lookup_agrees_with_a_scan_of_polygons(self, lon: float, lat: float) -> None:
        found = area_at(self.community, AreaKind.NEIGHBOURHOOD, lat, lon)
        point = Point(lon, lat)
        holders = [
            a
            for a in Area.objects.filter(
                community=self.community, kind=AreaKind.NEIGHBOURHOOD
            ).order_by("pk")
            if geo.parse_area_geometry(a.geometry).covers(point)
        ]
        assert (found.pk if found else None) == (holders[0].pk if holders else None)


class ImportAreasCommandTests(BeaconTestCase):
    def write(self, tmp: Path, data: object) -> Path:
        path = tmp / "areas.geojson"
        path.write_text(json.dumps(data))
        return path

    def test_bad_polygon_names_feature_and_reason_and_changes_nothing(self) -> None:
        import tempfile

        before = list(Area.objects.values_list("pk", "geometry"))
        cells_before = AreaCell.objects.count()
        good = {
            "type": "Feature",
            "properties": {"name": "West beat"},
            "geometry": box_polygon(WEST, SOUTH, -123.13, NORTH),
        }
        bad = {
            "type": "Feature",
            "properties": {"name": "Broken"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[WEST, SOUTH], [EAST, NORTH], [EAST, SOUTH], [WEST, NORTH], [WEST, SOUTH]]
                ],
            },
        }
        with tempfile.TemporaryDirectory() as tmp:
            path = self.write(Path(tmp), {"type": "FeatureCollection", "features": [good, bad]})
            with pytest.raises(CommandError) as info:
                call_command("import_areas", str(path), community="north", kind="beat")
        message = str(info.value)
        assert "feature 1 ('Broken')" in message
        assert "Self-intersection" in message
        assert list(Area.objects.values_list("pk", "geometry")) == before
        assert AreaCell.objects.count() == cells_before

    def test_import_creates_then_updates(self) -> None:
        import tempfile

        features = [
            {
                "type": "Feature",
                "properties": {"name": "Beat A", "code": "A"},
                "geometry": box_polygon(WEST, SOUTH, -123.13, NORTH),
            },
            {
                "type": "Feature",
                "properties": {"name": "Beat B"},
                "geometry": box_polygon(-123.13, SOUTH, EAST, NORTH),
            },
        ]
        with tempfile.TemporaryDirectory() as tmp:
            path = self.write(Path(tmp), {"type": "FeatureCollection", "features": features})
            out = StringIO()
            call_command("import_areas", str(path), community="north", kind="district", stdout=out)
            assert "Imported 2 new and updated 0" in out.getvalue()
            call_command("import_areas", str(path), community="north", kind="district", stdout=out)
            assert "Imported 0 new and updated 2" in out.getvalue()
        assert Area.objects.filter(community=self.community, kind="district").count() == 2
        area = area_at(self.community, AreaKind.DISTRICT, 49.27, WEST + 0.002)
        assert area is not None and area.code == "A"

    def test_unknown_community_and_unreadable_file(self) -> None:
        with pytest.raises(CommandError, match="No community"):
            call_command("import_areas", "x.geojson", community="nope", kind="beat")
        with pytest.raises(CommandError, match="cannot read"):
            call_command("import_areas", "/nonexistent.geojson", community="north", kind="beat")


def test_make_community_is_reusable(db: None) -> None:
    community = make_community("east", (-123.10, 49.26, -123.08, 49.28))
    assert Area.objects.filter(community=community).count() == 4
