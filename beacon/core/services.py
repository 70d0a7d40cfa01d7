"""Domain operations on communities, areas and people.

Pages, the API, CLI commands and jobs all call these; none of them touches the models'
write paths directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from beacon.core import geo
from beacon.core.audit import record_event
from beacon.core.models import Area, AreaCell, AreaKind, Community, Membership, User


class AreaImportError(ValueError):
    """One or more features of an area file cannot be used; nothing was changed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class AreaImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def community_boundary(community: Community) -> BaseGeometry | None:
    """The community's boundary as a shapely geometry, or None when not set.

    A boundary is validated when it is written (the admin form, the demo), so reading
    it skips the ring-by-ring checks: they were most of a report submission's geometry
    work, and every submission reads the boundary.
    """
    if not community.boundary:
        return None
    return shape(community.boundary)


def validate_area_geometry(community: Community, geometry: Any) -> BaseGeometry:
    """Check an area polygon on its own and against the community boundary."""
    shape = geo.parse_area_geometry(geometry)
    boundary = community_boundary(community)
    if boundary is not None:
        geo.check_inside(shape, boundary)
    return shape


def _store_cover(area: Area, shape: BaseGeometry) -> None:
    cover = geo.h3_cover(shape)
    AreaCell.objects.filter(area=area).delete()
    AreaCell.objects.bulk_create(
        [
            AreaCell(
                area=area, community_id=area.community_id, kind=area.kind, cell=c, interior=True
            )
            for c in cover.interior
        ]
        + [
            AreaCell(
                area=area, community_id=area.community_id, kind=area.kind, cell=c, interior=False
            )
            for c in cover.edge
        ],
        batch_size=2000,
    )


def save_area(
    community: Community,
    kind: str,
    name: str,
    geometry: Any,
    *,
    actor: User | None = None,
    code: str = "",
    population: int | None = None,
    area: Area | None = None,
) -> Area:
    """Create or update an area after validating its polygon; audited."""
    if kind not in AreaKind.values:
        raise geo.GeometryError(f"unknown area kind {kind!r}; use one of {AreaKind.values}")
    shape = validate_area_geometry(community, geometry)
    normalised = geo.to_geojson(shape)
    with transaction.atomic():
        created = area is None or area.pk is None
        if area is None:
            area = Area(community=community, kind=kind)
        area.name = name
        area.code = code
        area.geometry = normalised
        if population is not None:
            area.population = population
        area.save()
        _store_cover(area, shape)
        record_event(actor=actor, action="create" if created else "update", obj=area)
    return area


def delete_area(area: Area, *, actor: User | None = None) -> None:
    """Delete an area and its cover; audited."""
    with transaction.atomic():
        record_event(actor=actor, action="delete", obj=area)
        area.delete()


def load_feature_collection(path: Path) -> list[dict[str, Any]]:
    """Read a GeoJSON FeatureCollection (or a single Feature) from ``path``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AreaImportError([f"{path}: cannot read the file ({exc})"]) from None
    except json.JSONDecodeError as exc:
        raise AreaImportError([f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})"]) from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        return [data]
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise AreaImportError([f"{path}: expected a GeoJSON FeatureCollection"])
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise AreaImportError([f"{path}: the FeatureCollection has no features"])
    return features


def import_areas(
    community: Community,
    kind: str,
    features: list[dict[str, Any]],
    *,
    actor: User | None = None,
    name_property: str = "name",
) -> AreaImportResult:
    """Import polygons as areas of ``kind``: all features are valid or nothing changes.

    Features are matched to existing areas by name, so a re-import updates in place.
    """
    if kind not in AreaKind.values:
        raise AreaImportError([f"unknown area kind {kind!r}; use one of {AreaKind.values}"])
    problems: list[str] = []
    prepared: list[tuple[str, Any, dict[str, Any]]] = []
    seen: set[str] = set()
    for index, feature in enumerate(features):
        properties = feature.get("properties") or {} if isinstance(feature, dict) else {}
        name = str(properties.get(name_property) or "").strip()
        label = f"feature {index}" + (f" ({name!r})" if name else "")
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(f"{label}: not a GeoJSON Feature")
            continue
        if not name:
            problems.append(f"{label}: property {name_property!r} is missing or empty")
            continue
        if name in seen:
            problems.append(f"{label}: the name appears more than once in the file")
            continue
        seen.add(name)
        try:
            validate_area_geometry(community, feature.get("geometry"))
        except geo.GeometryError as exc:
            problems.append(f"{label}: {exc}")
            continue
        prepared.append((name, feature["geometry"], properties))
    if problems:
        raise AreaImportError(problems)
    result = AreaImportResult()
    with transaction.atomic():
        existing = {a.name: a for a in Area.objects.filter(community=community, kind=kind)}
        for name, geometry, properties in prepared:
            population = properties.get("population")
            area = save_area(
                community,
                kind,
                name,
                geometry,
                actor=actor,
                code=str(properties.get("code") or ""),
                population=int(population) if isinstance(population, int | float) else None,
                area=existing.get(name),
            )
            (result.updated if name in existing else result.created).append(area.name)
    return result


def area_at(community: Community | int, kind: str, lat: float, lon: float) -> Area | None:
    """The area of ``kind`` holding the point, found by H3 cell look-up.

    Points on an edge shared by two areas go to the one with the lower id, so every
    point has one answer.
    """
    community_id = community if isinstance(community, int) else community.pk
    cell = geo.point_cell(lat, lon)
    rows = list(
        AreaCell.objects.filter(community_id=community_id, kind=kind, cell=cell)
        .select_related("area")
        .order_by("area_id")
    )
    for row in rows:
        if row.interior:
            return row.area
    if not rows:
        return None
    from shapely.geometry import Point

    point = Point(lon, lat)
    for row in rows:
        if geo.parse_area_geometry(row.area.geometry).covers(point):
            return row.area
    return None


def add_member(
    user: User, community: Community, role: str, *, actor: User | None = None
) -> Membership:
    """Give ``user`` a role in ``community`` (idempotent); audited."""
    membership, created = Membership.objects.get_or_create(
        user=user, community=community, role=role
    )
    if created:
        record_event(actor=actor, action="create", obj=membership, detail={"role": role})
    return membership
