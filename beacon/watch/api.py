"""Watch endpoints: groups, asking to join, and coordinators' decisions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import django_auth
from pydantic import Field

from beacon.core.access import MEMBERS, get_object_or_deny, require_role
from beacon.core.models import Community
from beacon.watch import services
from beacon.watch.models import WatchGroup, WatchMembership

router = Router(tags=["watch"])


class ErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict)


class GroupOut(Schema):
    id: int
    slug: str
    name: str
    description: str
    geometry: dict[str, Any]


class JoinIn(Schema):
    message: str = ""
    block: str = ""


class MembershipOut(Schema):
    id: int
    group: str
    user: str
    role: str
    status: str


class DecisionIn(Schema):
    approve: bool


ERRORS = {400: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut}


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


def _membership_out(row: WatchMembership) -> dict[str, Any]:
    return {
        "id": row.pk,
        "group": row.group.slug,
        "user": str(row.user),
        "role": row.role,
        "status": row.status,
    }


@router.get("/communities/{slug}/watch-groups", response={200: list[GroupOut], 404: ErrorsOut})
def list_groups(request: HttpRequest, slug: str) -> Any:
    """Watch groups the caller may see, with their areas."""
    community = _community(request, slug)
    groups = WatchGroup.objects.visible_to(request.user).filter(community=community)
    return [
        {
            "id": g.pk,
            "slug": g.slug,
            "name": g.name,
            "description": g.description,
            "geometry": g.geometry,
        }
        for g in groups
    ]


@router.post(
    "/communities/{slug}/watch-groups/{group}/join",
    response={201: MembershipOut, **ERRORS},
    auth=django_auth,
)
def join(request: HttpRequest, slug: str, group: str, payload: JoinIn) -> Any:
    """Ask to join a group; a coordinator decides."""
    community = _community(request, slug)
    require_role(request.user, community, MEMBERS)
    found = get_object_or_deny(
        WatchGroup.objects.filter(community=community), request.user, "view", slug=group
    )
    try:
        row = services.request_membership(
            found,
            request.user,  # type: ignore[arg-type]
            message=payload.message,
            block=payload.block,
        )
    except services.WatchError as exc:
        return Status(400, {"detail": str(exc), "errors": exc.errors})
    return Status(201, _membership_out(row))


@router.post(
    "/communities/{slug}/watch-memberships/{membership_id}/decision",
    response={200: MembershipOut, **ERRORS},
    auth=django_auth,
)
def decide(request: HttpRequest, slug: str, membership_id: int, payload: DecisionIn) -> Any:
    """A coordinator approves or declines a request."""
    community = _community(request, slug)
    row = get_object_or_deny(
        WatchMembership.objects.filter(community=community).select_related("group", "user"),
        request.user,
        "change",
        pk=membership_id,
    )
    try:
        services.decide_membership(
            row,
            actor=request.user,  # type: ignore[arg-type]
            approve=payload.approve,
        )
    except services.WatchError as exc:
        return Status(400, {"detail": str(exc), "errors": exc.errors})
    return _membership_out(row)
