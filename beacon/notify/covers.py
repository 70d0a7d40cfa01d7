"""H3 covers of watched shapes, and matching events to subscriptions by cell look-up.

A cover is the set of resolution-9 cells meeting a shape, split into interior cells
(wholly inside: a point there matches with no further test) and edge cells (a point
there needs an exact test against the circle or polygon). Interior cells are compacted
with ``h3.compact_cells``, so a neighbourhood of 2,000 cells is stored as a few hundred;
a point therefore looks up its cell *and its parents* (ten integers) in one indexed
query. The cost of a match grows with the number of subscriptions that cover the
point, not with the number of subscriptions.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import h3
from django.db import transaction
from django.db.models import F
from shapely import geometry as sg
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry, prep

from beacon.core import geo
from beacon.core.models import Area, Community
from beacon.notify.models import TOPIC_BITS, Cover, CoverCell, CoverKind, Subscription

RESOLUTION = geo.H3_RESOLUTION
EARTH_RADIUS_M = 6_371_008.8
# Safety margins for classifying cells against a circle: interior cells must be inside
# for certain, edge candidates must include every cell that might touch it.
_INSIDE_MARGIN_M = 2.0
_TOUCH_MARGIN_M = 2.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class CellSet:
    """Cells of a cover: compacted interior cells and resolution-9 edge cells."""

    interior: frozenset[int]
    edge: frozenset[int]

    @property
    def size(self) -> int:
        return len(self.interior) + len(self.edge)


def _compact(cells: Iterable[int]) -> frozenset[int]:
    addresses = [h3.int_to_str(c) for c in cells]
    return frozenset(int(h3.str_to_int(a)) for a in h3.compact_cells(addresses))


def polygon_cells(shape: BaseGeometry) -> CellSet:
    """The cover of a polygon, reusing the areas' ``h3_cover``."""
    cover = geo.h3_cover(shape, RESOLUTION)
    return CellSet(_compact(cover.interior), frozenset(cover.edge))


def _local_xy(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """Metres east and north of (lat0, lon0); exact enough within a few kilometres."""
    x = math.radians(lon - lon0) * math.cos(math.radians(lat0)) * EARTH_RADIUS_M
    y = math.radians(lat - lat0) * EARTH_RADIUS_M
    return x, y


def radius_cells(lat: float, lon: float, radius_m: float) -> CellSet:
    """The cover of a circle: cells wholly inside are interior, cells touching it edge."""
    centre = h3.latlng_to_cell(lat, lon, RESOLUTION)
    edge_m = h3.average_hexagon_edge_length(RESOLUTION, unit="m")
    # Neighbouring centres are 1.5 edges apart at least along a ring, so ring k reaches
    # every cell whose centre is within the radius plus one circumradius.
    k = math.ceil((radius_m + edge_m) / (1.5 * edge_m)) + 1
    # No nearby cell reaches further from its own centre than this (neighbouring cells
    # differ in size by far less than 20 %), so most cells are settled by their centre's
    # distance alone and only those near the circle get the exact tests.
    clat0, clon0 = h3.cell_to_latlng(centre)
    reach = 1.2 * max(distance_m(clat0, clon0, a, b) for a, b in h3.cell_to_boundary(centre))
    interior: set[int] = set()
    edge: set[int] = set()
    for address in h3.grid_disk(centre, k):
        clat, clon = h3.cell_to_latlng(address)
        middle = distance_m(lat, lon, clat, clon)
        value = int(h3.str_to_int(address))
        if middle - reach > radius_m + _TOUCH_MARGIN_M:
            continue
        if middle + reach <= radius_m - _INSIDE_MARGIN_M:
            interior.add(value)
            continue
        boundary = h3.cell_to_boundary(address)
        far = max(distance_m(lat, lon, vlat, vlon) for vlat, vlon in boundary)
        corners = [_local_xy(lat, lon, vlat, vlon) for vlat, vlon in boundary]
        if far <= radius_m - _INSIDE_MARGIN_M:
            interior.add(value)
        elif address == centre or _distance_to_ring(corners) <= radius_m + _TOUCH_MARGIN_M:
            edge.add(value)
    return CellSet(_compact(interior), frozenset(edge))


def _distance_to_ring(corners: list[tuple[float, float]]) -> float:
    """Distance from the origin to a closed polygon's outline (planar metres)."""
    best = math.inf
    for (x1, y1), (x2, y2) in zip(corners, corners[1:] + corners[:1], strict=True):
        dx, dy = x2 - x1, y2 - y1
        length = dx * dx + dy * dy
        t = 0.0 if length == 0 else max(0.0, min(1.0, -(x1 * dx + y1 * dy) / length))
        best = min(best, math.hypot(x1 + t * dx, y1 + t * dy))
    return best


def circle_polygon(lat: float, lon: float, radius_m: float, segments: int = 64) -> sg.Polygon:
    """A circle as a lon/lat polygon (for drawing and for area-to-area overlap tests)."""
    points = []
    for i in range(segments):
        angle = 2 * math.pi * i / segments
        dy = radius_m * math.cos(angle) / EARTH_RADIUS_M
        dx = radius_m * math.sin(angle) / (EARTH_RADIUS_M * math.cos(math.radians(lat)))
        points.append((lon + math.degrees(dx), lat + math.degrees(dy)))
    return sg.Polygon(points)


def shape_key(kind: str, payload: Any) -> str:
    """A stable key for a drawn shape or circle, so identical shapes share one cover."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return f"{kind}:{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def _store(cover: Cover, cells: CellSet) -> None:
    CoverCell.objects.filter(cover=cover).delete()
    rows = [
        CoverCell(cover=cover, community_id=cover.community_id, cell=c, edge=False)
        for c in cells.interior
    ] + [
        CoverCell(cover=cover, community_id=cover.community_id, cell=c, edge=True)
        for c in cells.edge
    ]
    CoverCell.objects.bulk_create(rows, batch_size=2000)


def cover_for_area(area: Area) -> Cover:
    """The shared cover of a neighbourhood or beat (created on first use)."""
    key = f"area:{area.pk}"
    cover = Cover.objects.filter(community_id=area.community_id, key=key).first()
    if cover is not None:
        return cover
    with transaction.atomic():
        cover = Cover.objects.create(
            community_id=area.community_id,
            key=key,
            kind=area.kind,
            label=area.name,
            area=area,
            geometry=area.geometry,
        )
        _store(cover, polygon_cells(geo.parse_area_geometry(area.geometry)))
    return cover


def cover_for_polygon(
    community: Community, shape: BaseGeometry, *, kind: str = CoverKind.POLYGON, label: str = ""
) -> Cover:
    """A cover for a drawn polygon; identical drawings share one."""
    geometry = geo.to_geojson(shape)
    key = shape_key("polygon", geometry)
    cover = Cover.objects.filter(community=community, key=key).first()
    if cover is not None:
        return cover
    with transaction.atomic():
        cover = Cover.objects.create(
            community=community, key=key, kind=kind, label=label, geometry=geometry
        )
        _store(cover, polygon_cells(shape))
    return cover


def cover_for_radius(
    community: Community, lat: float, lon: float, radius_m: int, *, label: str = ""
) -> Cover:
    """A cover for a circle; the same point and radius share one."""
    lat, lon = round(lat, 6), round(lon, 6)
    key = shape_key("radius", [lat, lon, radius_m])
    cover = Cover.objects.filter(community=community, key=key).first()
    if cover is not None:
        return cover
    with transaction.atomic():
        cover = Cover.objects.create(
            community=community,
            key=key,
            kind=CoverKind.RADIUS,
            label=label,
            lat=lat,
            lon=lon,
            radius_m=radius_m,
        )
        _store(cover, radius_cells(lat, lon, radius_m))
    return cover


def sync_named_cover(
    community: Community, key: str, kind: str, label: str, shape: BaseGeometry
) -> Cover:
    """Create or refresh a cover other apps name (e.g. "watch:3" for a group's area).

    Subscriptions follow the shape: when a group redraws its area, everyone subscribed
    to it hears about the new area from then on.
    """
    geometry = geo.to_geojson(shape)
    with transaction.atomic():
        cover, created = Cover.objects.get_or_create(
            community=community,
            key=key,
            defaults={"kind": kind, "label": label, "geometry": geometry},
        )
        if not created and cover.geometry == geometry and cover.label == label:
            return cover
        cover.label = label
        cover.geometry = geometry
        cover.save(update_fields=["label", "geometry", "updated_at"])
        _store(cover, polygon_cells(shape))
    return cover


def cover_shape(cover: Cover) -> BaseGeometry:
    """The cover's exact shape as a lon/lat geometry (circles approximated by 64 sides)."""
    if cover.kind == CoverKind.RADIUS:
        assert cover.lat is not None and cover.lon is not None and cover.radius_m is not None
        return circle_polygon(cover.lat, cover.lon, cover.radius_m)
    return geo.parse_area_geometry(cover.geometry)


def point_lookup_cells(lat: float, lon: float) -> list[int]:
    """A point's resolution-9 cell and all its parents: what a compacted cover may hold."""
    address = h3.latlng_to_cell(lat, lon, RESOLUTION)
    return [int(h3.str_to_int(h3.cell_to_parent(address, r))) for r in range(RESOLUTION + 1)]


class ShapeCache:
    """Prepared shapes of covers, parsed once per matching run."""

    def __init__(self) -> None:
        self._shapes: dict[int, PreparedGeometry] = {}

    def contains(self, cover: Cover, lat: float, lon: float) -> bool:
        """The exact test for a point in an edge cell."""
        if cover.kind == CoverKind.RADIUS:
            assert cover.lat is not None and cover.lon is not None and cover.radius_m is not None
            return distance_m(cover.lat, cover.lon, lat, lon) <= cover.radius_m
        prepared = self._shapes.get(cover.pk)
        if prepared is None:
            prepared = prep(geo.parse_area_geometry(cover.geometry))
            self._shapes[cover.pk] = prepared
        return bool(prepared.covers(sg.Point(lon, lat)))

    def contains_id(self, cover_id: int, lat: float, lon: float) -> bool:
        """The exact test for a polygon cover known by id (its shape is read once)."""
        prepared = self._shapes.get(cover_id)
        if prepared is None:
            geometry = Cover.objects.values_list("geometry", flat=True).get(pk=cover_id)
            prepared = prep(geo.parse_area_geometry(geometry))
            self._shapes[cover_id] = prepared
        return bool(prepared.covers(sg.Point(lon, lat)))


def _point_query(community_id: int, topic: str, lat: float, lon: float) -> Any:
    """Subscriptions to ``topic`` whose cover holds the point's cell or a parent of it.

    One query, driven by the ``(community, cell)`` index: cover cells → covers →
    subscriptions (by their cover index). ``on_edge`` is the matching cell's flag; a
    compacted cover holds at most one of a point's cells, so each subscription appears
    once.
    """
    return (
        Subscription.objects.filter(
            active=True,
            cover__cells__community_id=community_id,
            cover__cells__cell__in=point_lookup_cells(lat, lon),
        )
        .order_by()
        .annotate(topic_bit=F("topics").bitand(TOPIC_BITS[topic]))
        .filter(topic_bit__gt=0)
        # Refers to the join the filter made (annotations reuse joins), not a new one.
        .annotate(on_edge=F("cover__cells__edge"))
    )


def match_point(
    community_id: int,
    topic: str,
    lat: float,
    lon: float,
    *,
    cache: ShapeCache | None = None,
) -> list[Subscription]:
    """Active subscriptions to ``topic`` whose area holds the point.

    One indexed query (see :func:`_point_query`); only matches through edge cells are
    tested exactly (distance to the centre, or point in polygon).
    """
    rows = _point_query(community_id, topic, lat, lon).select_related("cover", "user", "community")
    cache = cache or ShapeCache()
    found: list[Subscription] = [
        row for row in rows if not row.on_edge or cache.contains(row.cover, lat, lon)
    ]
    return found


def match_point_ids(
    community_id: int,
    topic: str,
    lat: float,
    lon: float,
    *,
    cache: ShapeCache | None = None,
) -> list[int]:
    """The ids :func:`match_point` would return, without building model objects.

    The same single query, reading only what the exact edge test needs; used where only
    counts or ids matter (previews, the benchmark).
    """
    rows = _point_query(community_id, topic, lat, lon).values_list(
        "pk", "on_edge", "cover_id", "cover__kind", "cover__lat", "cover__lon", "cover__radius_m"
    )
    cache = cache or ShapeCache()
    found = []
    for pk, on_edge, cover_id, kind, clat, clon, radius in rows:
        if on_edge:
            if kind == CoverKind.RADIUS:
                assert clat is not None and clon is not None and radius is not None
                if distance_m(clat, clon, lat, lon) > radius:
                    continue
            elif not cache.contains_id(cover_id, lat, lon):
                continue
        found.append(pk)
    return found


def area_lookup_cells(shape: BaseGeometry) -> tuple[dict[int, list[int]], set[int]]:
    """For an area event: every resolution-9 cell it meets, indexed by cell and parents.

    Returns a map from each look-up value (a cell or one of its parents) to the area's
    resolution-9 cells under it, and the set of the area's interior cells.
    """
    cover = geo.h3_cover(shape, RESOLUTION)
    under: dict[int, list[int]] = defaultdict(list)
    for cell in cover.interior | cover.edge:
        address = h3.int_to_str(cell)
        for r in range(RESOLUTION + 1):
            under[int(h3.str_to_int(h3.cell_to_parent(address, r)))].append(cell)
    return under, set(cover.interior)


def match_area(community_id: int, topic: str, shape: BaseGeometry) -> list[Subscription]:
    """Active subscriptions to ``topic`` whose area overlaps ``shape`` (broadcasts).

    Cells are looked up in chunks; a subscription whose interior cell meets an interior
    cell of the area certainly overlaps it, every other candidate gets an exact test.
    """
    under, interior = area_lookup_cells(shape)
    keys = list(under)
    certain: set[int] = set()
    candidates: set[int] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for cover_id, cell, edge in CoverCell.objects.filter(
            community_id=community_id, cell__in=chunk
        ).values_list("cover_id", "cell", "edge"):
            candidates.add(cover_id)
            if not edge and any(c in interior for c in under[cell]):
                certain.add(cover_id)
    if not candidates:
        return []
    rows = (
        Subscription.objects.filter(
            community_id=community_id, active=True, cover_id__in=list(candidates)
        )
        .annotate(topic_bit=F("topics").bitand(TOPIC_BITS[topic]))
        .filter(topic_bit__gt=0)
        .select_related("cover", "user", "community")
    )
    prepared = prep(shape)
    checked: dict[int, bool] = {}
    found: list[Subscription] = []
    for row in rows:
        if row.cover_id not in certain:
            if row.cover_id not in checked:
                checked[row.cover_id] = bool(prepared.intersects(cover_shape(row.cover)))
            if not checked[row.cover_id]:
                continue
        found.append(row)
    return found
