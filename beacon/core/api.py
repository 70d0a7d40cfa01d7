"""Core endpoints: communities and areas."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.security import django_auth
from pydantic import BaseModel, Field

from beacon.core import geo
from beacon.core.access import get_object_or_deny, require_role
from beacon.core.models import Area, AreaKind, Community
from beacon.core.roles import AREA_EDITORS
from beacon.core.schemas import AreaCollection, AreaIn, AreaOut, CommunityOut, ErrorOut
from beacon.core.services import area_at, save_area

router = Router(tags=["communities"])


def _community_out(community: Community) -> dict[str, Any]:
    return {
        "slug": community.slug,
        "name": community.name,
        "timezone": community.timezone,
        "centre_lat": community.centre_lat,
        "centre_lon": community.centre_lon,
        "organization": community.organization.name,
    }


def _area_out(area: Area) -> dict[str, Any]:
    return {
        "id": area.pk,
        "kind": area.kind,
        "name": area.name,
        "code": area.code,
        "population": area.population,
    }


@router.get("/communities", response=list[CommunityOut])
def list_communities(request: HttpRequest) -> list[dict[str, Any]]:
    """Communities visible to the caller."""
    communities = Community.objects.visible_to(request.user).select_related("organization")
    return [_community_out(c) for c in communities.order_by("name")]


@router.get("/communities/{slug}", response={200: CommunityOut, 404: ErrorOut})
def get_community(request: HttpRequest, slug: str) -> dict[str, Any]:
    """One community."""
    community = get_object_or_deny(
        Community.objects.select_related("organization"), request.user, "view", slug=slug
    )
    return _community_out(community)


class AreaFilter(BaseModel):
    kind: AreaKind | None = None


@router.get("/communities/{slug}/areas", response={200: AreaCollection, 404: ErrorOut})
def list_areas(request: HttpRequest, slug: str, filters: Query[AreaFilter]) -> dict[str, Any]:
    """The community's areas as GeoJSON."""
    community = get_object_or_deny(Community.objects.all(), request.user, "view", slug=slug)
    areas = Area.objects.visible_to(request.user).filter(community=community)
    if filters.kind:
        areas = areas.filter(kind=filters.kind)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": a.pk,
                "properties": {"name": a.name, "kind": a.kind, "code": a.code},
                "geometry": a.geometry,
            }
            for a in areas
        ],
    }


class PointQuery(BaseModel):
    kind: AreaKind
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


@router.get("/communities/{slug}/area-at", response={200: AreaOut, 404: ErrorOut})
def get_area_at(request: HttpRequest, slug: str, point: Query[PointQuery]) -> Any:
    """The beat, neighbourhood or district holding a point."""
    community = get_object_or_deny(Community.objects.all(), request.user, "view", slug=slug)
    area = area_at(community, point.kind, point.lat, point.lon)
    if area is None:
        return Status(404, {"detail": f"No {point.kind} of {community.slug} holds that point."})
    return _area_out(area)


@router.post(
    "/communities/{slug}/areas",
    response={201: AreaOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=django_auth,
)
def create_area(request: HttpRequest, slug: str, payload: AreaIn) -> Any:
    """Create an area from a GeoJSON polygon (analysts, supervisors, admins)."""
    community = get_object_or_deny(Community.objects.all(), request.user, "view", slug=slug)
    require_role(request.user, community, AREA_EDITORS)
    if Area.objects.filter(community=community, kind=payload.kind, name=payload.name).exists():
        raise HttpError(400, f"A {payload.kind} named {payload.name!r} already exists.")
    try:
        area = save_area(
            community,
            payload.kind,
            payload.name,
            payload.geometry,
            actor=request.user,  # type: ignore[arg-type]
            code=payload.code,
            population=payload.population,
        )
    except geo.GeometryError as exc:
        return Status(400, {"detail": f"geometry: {exc}"})
    return Status(201, _area_out(area))
