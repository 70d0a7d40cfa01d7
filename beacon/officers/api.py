"""Officer endpoints: public profiles, "your officer" at a point, activity and workload."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import django_auth
from pydantic import Field

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.decorators import second_factor_satisfied
from beacon.core.models import Area, AreaKind, Community
from beacon.core.roles import MANAGER_ROLES, Role
from beacon.officers import services
from beacon.officers.models import OfficerProfile

router = Router(tags=["officers"])


class ErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict)


class OfficerOut(Schema):
    id: int | None
    name: str
    title: str
    introduction: str
    languages: list[str]
    office_hours: list[dict[str, str]]
    contact_email: str
    contact_phone: str
    contact_note: str
    beats: list[str]


class YourOfficerOut(Schema):
    beat: str | None
    officers: list[OfficerOut]


class PointIn(Schema):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class ActivityIn(Schema):
    kind: str = Field(description="contact, meeting, patrol, problem or other")
    minutes: int
    people: int = 0
    occurred_on: date | None = None
    summary: str = ""
    beat_id: int | None = None
    problem_ref: str = ""


class ActivityOut(Schema):
    id: int
    kind: str
    beat: str | None
    minutes: int
    people: int
    occurred_on: date


class WorkloadOut(Schema):
    beat: str
    officers: list[str]
    entries: int
    minutes: int
    people: int
    by_kind: dict[str, int]
    open_reports: int


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


def _officer_out(profile: OfficerProfile | None, name: str, beats: list[str]) -> dict[str, Any]:
    return {
        "id": profile.pk if profile else None,
        "name": profile.display_name if profile else name,
        "title": profile.title if profile else "",
        "introduction": profile.introduction if profile else "",
        "languages": profile.languages if profile else [],
        "office_hours": profile.office_hours if profile else [],
        "contact_email": profile.contact_email if profile else "",
        "contact_phone": profile.contact_phone if profile else "",
        "contact_note": profile.contact_note if profile else "",
        "beats": beats,
    }


@router.get("/communities/{slug}/officers", response={200: list[OfficerOut], 404: ErrorsOut})
def list_officers(request: HttpRequest, slug: str) -> Any:
    """Published officer profiles with the beats they work today."""
    community = _community(request, slug)
    return [
        _officer_out(p, p.display_name, [b.name for b in beats])
        for p, beats in services.public_profiles(community)
    ]


@router.get("/communities/{slug}/officers/at", response={200: YourOfficerOut, 404: ErrorsOut})
def officers_at(request: HttpRequest, slug: str, point: Query[PointIn]) -> Any:
    """Your officer: the beat holding a point and who works it today."""
    community = _community(request, slug)
    found = services.officers_at(community, point.lat, point.lon)
    if found.beat is None:
        return Status(404, {"detail": "No beat of this community holds that point."})
    beat = found.beat.name
    return {
        "beat": beat,
        "officers": [
            _officer_out(profile, "Community policing officer", [beat])
            for _user, profile in found.officers
        ],
    }


@router.post(
    "/communities/{slug}/activity",
    response={201: ActivityOut, 400: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut},
    auth=django_auth,
)
def log_activity(request: HttpRequest, slug: str, payload: ActivityIn) -> Any:
    """Log community work with the time spent (officers)."""
    community = _community(request, slug)
    require_role(request.user, community, frozenset({Role.OFFICER, *MANAGER_ROLES}))
    if not second_factor_satisfied(request):
        raise HttpError(403, "Sign in with your second factor first.")
    beat = None
    if payload.beat_id is not None:
        beat = Area.objects.filter(
            community=community, kind=AreaKind.BEAT, pk=payload.beat_id
        ).first()
        if beat is None:
            return Status(
                400, {"detail": "Unknown beat.", "errors": {"beat_id": ["Unknown beat."]}}
            )
    try:
        entry = services.log_activity(
            community,
            request.user,  # type: ignore[arg-type]
            kind=payload.kind,
            minutes=payload.minutes,
            people=payload.people,
            occurred_on=payload.occurred_on,
            summary=payload.summary,
            beat=beat,
            problem_ref=payload.problem_ref,
        )
    except services.OfficerError as exc:
        return Status(400, {"detail": str(exc), "errors": exc.errors})
    return Status(
        201,
        {
            "id": entry.pk,
            "kind": entry.kind,
            "beat": entry.beat.name if entry.beat else None,
            "minutes": entry.minutes,
            "people": entry.people,
            "occurred_on": entry.occurred_on,
        },
    )


@router.get(
    "/communities/{slug}/workload",
    response={200: list[WorkloadOut], 403: ErrorsOut, 404: ErrorsOut},
    auth=django_auth,
)
def workload(request: HttpRequest, slug: str, days: int = 30) -> Any:
    """Supervisors: community work, time and contacts per beat over the last days."""
    community = _community(request, slug)
    require_role(request.user, community, MANAGER_ROLES)
    if not second_factor_satisfied(request):
        raise HttpError(403, "Sign in with your second factor first.")
    return [
        {
            "beat": row.beat.name,
            "officers": [o.email for o in row.officers],
            "entries": row.entries,
            "minutes": row.minutes,
            "people": row.people,
            "by_kind": row.by_kind,
            "open_reports": row.open_reports,
        }
        for row in services.workload(community, max(1, min(days, 365)))
    ]
