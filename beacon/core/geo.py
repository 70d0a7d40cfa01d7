"""Polygons, H3 covers and point-in-area look-ups.

Areas are GeoJSON polygons in WGS84. Each is covered by H3 cells at
``BEACON_H3_RESOLUTION`` (9, about 0.1 km² a cell); cells wholly inside an area are
"interior" and answer a look-up on their own, the few cells on an edge fall back to an
exact polygon test. A look-up is therefore one indexed query, not a scan of areas.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import h3
from shapely import geometry as sg
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

H3_RESOLUTION = 9
# Edge sampling step in degrees of latitude (~25 m), well under an r9 edge (~174 m).
_EDGE_STEP_DEG = 0.000225


class GeometryError(ValueError):
    """A polygon Beacon cannot use; the message says why."""


def _check_ring(ring: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(ring, list) or len(ring) < 4:
        raise GeometryError(f"{where}: a ring needs at least 4 positions")
    points: list[tuple[float, float]] = []
    for index, position in enumerate(ring):
        if (
            not isinstance(position, list | tuple)
            or len(position) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position[:2])
        ):
            raise GeometryError(f"{where}, position {index}: expected [longitude, latitude]")
        lon, lat = float(position[0]), float(position[1])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise GeometryError(f"{where}, position {index}: coordinates must be finite")
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise GeometryError(
                f"{where}, position {index}: ({lon}, {lat}) is outside WGS84 bounds "
                "(longitude -180..180, latitude -90..90)"
            )
        points.append((lon, lat))
    if points[0] != points[-1]:
        raise GeometryError(f"{where}: the ring is not closed (first and last positions differ)")
    return points


def parse_area_geometry(geojson: Any) -> BaseGeometry:
    """Validate a GeoJSON Polygon or MultiPolygon and return it as a shapely geometry.

    Raises :class:`GeometryError` naming the ring and position at fault.
    """
    if not isinstance(geojson, dict):
        raise GeometryError("geometry must be a GeoJSON object")
    kind = geojson.get("type")
    coordinates = geojson.get("coordinates")
    if kind == "Polygon":
        polygons_coords = [coordinates]
    elif kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise GeometryError("MultiPolygon needs at least one polygon")
        polygons_coords = coordinates
    else:
        raise GeometryError(f"geometry type {kind!r} is not Polygon or MultiPolygon")
    polygons = []
    for p_index, rings in enumerate(polygons_coords):
        label = f"polygon {p_index}" if kind == "MultiPolygon" else "polygon"
        if not isinstance(rings, list) or not rings:
            raise GeometryError(f"{label}: no rings")
        shell = _check_ring(rings[0], f"{label}, outer ring")
        holes = [_check_ring(r, f"{label}, hole {i}") for i, r in enumerate(rings[1:], 1)]
        polygons.append(sg.Polygon(shell, holes))
    shape: BaseGeometry = polygons[0] if kind == "Polygon" else sg.MultiPolygon(polygons)
    if not shape.is_valid:
        raise GeometryError(f"invalid geometry: {explain_validity(shape)}")
    if shape.area == 0:
        raise GeometryError("the polygon has no area")
    return shape


def check_inside(shape: BaseGeometry, boundary: BaseGeometry, tolerance_deg: float = 1e-4) -> None:
    """Raise :class:`GeometryError` unless ``shape`` lies inside ``boundary``."""
    if not boundary.buffer(tolerance_deg).covers(shape):
        outside = shape.difference(boundary).area / shape.area
        raise GeometryError(
            f"the area lies partly outside the community boundary ({outside:.0%} of it)"
        )


def cell_polygon(cell: int | str) -> sg.Polygon:
    """The hexagon of an H3 cell as a shapely polygon in (lon, lat)."""
    address = h3.int_to_str(cell) if isinstance(cell, int) else cell
    return sg.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(address)])


@dataclass(frozen=True)
class Cover:
    """The H3 cells covering an area, split into interior and edge cells."""

    interior: frozenset[int]
    edge: frozenset[int]


def _boundary_points(shape: BaseGeometry) -> Iterable[tuple[float, float]]:
    polygons = shape.geoms if isinstance(shape, sg.MultiPolygon) else [shape]
    for polygon in polygons:
        for ring in [polygon.exterior, *polygon.interiors]:
            length = ring.length
            steps = max(int(length / _EDGE_STEP_DEG), 1)
            for i in range(steps + 1):
                point = ring.interpolate(i / steps, normalized=True)
                yield point.x, point.y


def h3_cover(shape: BaseGeometry, resolution: int = H3_RESOLUTION) -> Cover:
    """Every H3 cell at ``resolution`` that meets ``shape``, split interior / edge."""
    candidates: set[str] = set(h3.geo_to_cells(shape.__geo_interface__, resolution))
    edge_seeds: set[str] = set()
    for lon, lat in _boundary_points(shape):
        edge_seeds.add(h3.latlng_to_cell(lat, lon, resolution))
    for seed in edge_seeds:
        candidates.update(h3.grid_disk(seed, 1))
    interior: set[int] = set()
    edge: set[int] = set()
    for address in candidates:
        hexagon = cell_polygon(address)
        if not hexagon.intersects(shape):
            continue
        value = h3.str_to_int(address)
        if address not in edge_seeds and shape.contains(hexagon):
            interior.add(value)
        else:
            edge.add(value)
    return Cover(frozenset(interior), frozenset(edge))


def point_cell(lat: float, lon: float, resolution: int = H3_RESOLUTION) -> int:
    """The H3 cell (as an integer) holding a point."""
    return int(h3.str_to_int(h3.latlng_to_cell(lat, lon, resolution)))


def cells_union(cells: Iterable[int]) -> BaseGeometry:
    """The union of H3 cells as a (Multi)Polygon in (lon, lat)."""
    addresses = [h3.int_to_str(c) for c in cells]
    shape = h3.cells_to_h3shape(addresses)
    return sg.shape(shape.__geo_interface__)


def to_geojson(shape: BaseGeometry, precision: int = 6) -> dict[str, Any]:
    """A GeoJSON geometry dict with rounded coordinates."""
    rounded = sg.shape(shape.__geo_interface__)
    mapping: dict[str, Any] = sg.mapping(rounded)

    def _round(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [_round(v) for v in value]
        return round(float(value), precision)

    return {"type": mapping["type"], "coordinates": _round(mapping["coordinates"])}
