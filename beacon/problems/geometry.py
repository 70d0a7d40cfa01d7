"""Problem areas: drawn polygons or H3 cells, metric buffers, rings and overlaps.

Areas are WGS84 GeoJSON like every Beacon area. Distances and areas are measured in the
UTM zone of the shape (``beacon.analytics.io.utm_crs_for``), so a 400 m buffer is
400 m wherever the community is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import h3
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely import geometry as sg
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from beacon.analytics.io import utm_crs_for
from beacon.core import geo
from beacon.core.models import Community
from beacon.core.services import community_boundary, validate_area_geometry

MAX_CELLS = 2000
# Overlaps smaller than this (m²) are rounding along a shared edge, not an overlap.
OVERLAP_TOLERANCE_M2 = 100.0


class AreaError(ValueError):
    """An area Beacon cannot use; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@cache
def _transformers(crs: str) -> tuple[Transformer, Transformer]:
    forward = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return forward, back


def _project(shape: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    def move(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    result: BaseGeometry = shapely.transform(shape, move)
    return result


@dataclass(frozen=True)
class Metric:
    """A projection to metres chosen for one place, and back."""

    crs: str

    @classmethod
    def around(cls, shape: BaseGeometry) -> Metric:
        """The UTM zone of the shape's centre."""
        centre = shape.centroid
        return cls(utm_crs_for(centre.x, centre.y))

    def to_metres(self, shape: BaseGeometry) -> BaseGeometry:
        return _project(shape, _transformers(self.crs)[0])

    def to_lonlat(self, shape: BaseGeometry) -> BaseGeometry:
        return _project(shape, _transformers(self.crs)[1])

    def area_m2(self, shape: BaseGeometry) -> float:
        return float(self.to_metres(shape).area)


def parse_cells(cells: Any, field: str = "cells") -> list[str]:
    """Check a list of H3 cells (hex strings of one resolution) and return it deduplicated."""
    if not isinstance(cells, list | tuple) or not cells:
        raise AreaError(field, "give at least one H3 cell")
    if len(cells) > MAX_CELLS:
        raise AreaError(field, f"at most {MAX_CELLS} cells, got {len(cells)}")
    result: list[str] = []
    resolution: int | None = None
    for index, cell in enumerate(cells):
        if not isinstance(cell, str) or not h3.is_valid_cell(cell):
            raise AreaError(field, f"item {index} ({cell!r}) is not an H3 cell")
        cell_resolution = h3.get_resolution(cell)
        if resolution is None:
            resolution = cell_resolution
        elif cell_resolution != resolution:
            raise AreaError(
                field,
                f"item {index} is at H3 resolution {cell_resolution}, the first at {resolution}; "
                "use cells of one resolution",
            )
        if cell not in result:
            result.append(cell)
    return result


def area_from_geometry(
    community: Community, geometry: Any, field: str = "geometry"
) -> BaseGeometry:
    """A drawn area checked on its own and against the community boundary."""
    if geometry in (None, "", {}):
        raise AreaError(field, "draw the area on the map (a GeoJSON Polygon)")
    try:
        return validate_area_geometry(community, geometry)
    except geo.GeometryError as exc:
        raise AreaError(field, str(exc)) from None


def area_from_cells(
    community: Community, cells: Iterable[str], field: str = "cells"
) -> BaseGeometry:
    """The union of H3 cells, trimmed to the community boundary.

    Hexagons on the community's edge stick out of it a little; the part outside holds
    no incidents of this community, so it is cut off rather than refused. Cells wholly
    outside the community are refused.
    """
    addresses = parse_cells(list(cells), field)
    shape = geo.cells_union(h3.str_to_int(c) for c in addresses)
    boundary = community_boundary(community)
    if boundary is not None:
        outside = [c for c in addresses if not geo.cell_polygon(c).intersects(boundary)]
        if outside:
            raise AreaError(
                field,
                f"{len(outside)} cell(s) lie outside the community boundary (first: {outside[0]})",
            )
        shape = shape.intersection(boundary)
        shape = _polygonal(shape)
    try:
        return validate_area_geometry(community, geo.to_geojson(shape))
    except geo.GeometryError as exc:
        raise AreaError(field, str(exc)) from None


def _polygonal(shape: BaseGeometry) -> BaseGeometry:
    """A valid (multi)polygon: repaired if needed, without the points and lines an
    intersection can leave along edges."""
    if not shape.is_valid:
        shape = shapely.make_valid(shape)
    if isinstance(shape, sg.Polygon | sg.MultiPolygon):
        return shape
    parts = [g for g in getattr(shape, "geoms", []) if isinstance(g, sg.Polygon | sg.MultiPolygon)]
    return unary_union(parts) if parts else sg.Polygon()


def ring(
    shape: BaseGeometry, width_m: float, metric: Metric, exclude: BaseGeometry | None = None
) -> BaseGeometry:
    """The band ``width_m`` wide around ``shape`` (outside it), minus ``exclude``."""
    metres = metric.to_metres(shape)
    band = metres.buffer(width_m, quad_segs=8).difference(metres)
    result = metric.to_lonlat(band)
    if exclude is not None and not exclude.is_empty:
        result = result.difference(exclude)
    return _polygonal(result)


def clip(shape: BaseGeometry, community: Community) -> BaseGeometry:
    """``shape`` cut to the community boundary (unchanged without one)."""
    boundary = community_boundary(community)
    if boundary is None:
        return shape
    return _polygonal(shape.intersection(boundary))


def overlap_m2(first: BaseGeometry, second: BaseGeometry, metric: Metric) -> float:
    """The area two shapes share, in square metres."""
    if first.is_empty or second.is_empty or not first.intersects(second):
        return 0.0
    return metric.area_m2(first.intersection(second))


def as_geojson(shape: BaseGeometry) -> dict[str, Any]:
    """GeoJSON of a (possibly empty) polygonal shape; empty gives ``{}``."""
    if shape.is_empty:
        return {}
    return geo.to_geojson(shape)


def shape_of(geojson: Any) -> BaseGeometry:
    """A stored GeoJSON area back as a shape (empty for ``{}``)."""
    if not geojson:
        return sg.Polygon()
    return sg.shape(geojson)
