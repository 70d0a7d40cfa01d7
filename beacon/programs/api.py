"""Programs endpoints of the JSON API: programs, events, registration, figures."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError
from ninja.security import django_auth

from beacon.core.access import get_object_or_deny, require_role
from beacon.core.decorators import second_factor_satisfied
from beacon.core.idempotency import IdempotencyError, run_once
from beacon.core.models import Community, User
from beacon.core.roles import STAFF_ROLES
from beacon.programs import figures, services
from beacon.programs.models import ORGANISERS, Event, EventStatus, Program, RegistrationStatus
from beacon.programs.schemas import (
    ErrorsOut,
    EventIn,
    EventOut,
    FiguresOut,
    ProgramOut,
    RegistrationIn,
    RegistrationOut,
)

router = Router(tags=["programs"])
ERRORS = {400: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 409: ErrorsOut}


def _community(request: HttpRequest, slug: str) -> Community:
    community: Community = get_object_or_deny(
        Community.objects.all(), request.user, "view", slug=slug
    )
    return community


def _staff(request: HttpRequest, slug: str, roles: frozenset[str]) -> tuple[Community, User]:
    community = _community(request, slug)
    require_role(request.user, community, roles)
    if not second_factor_satisfied(request):
        raise HttpError(403, "Sign in with your second factor first.")
    return community, request.user  # type: ignore[return-value]


def _event_out(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "title": event.title,
        "kind": event.kind,
        "program": event.program.name if event.program else None,
        "description": event.description,
        "audience": event.audience,
        "status": event.status,
        "capacity": event.capacity,
        "free_seats": services.free_seats(event),
        "registration_open": event.registration_open,
        "sessions": [
            {
                "id": s.pk,
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
                "venue": s.venue,
                "address": s.address,
                "lat": s.lat,
                "lon": s.lon,
                "neighbourhood": s.area.name if s.area else None,
            }
            for s in event.sessions.select_related("area")
        ],
    }


@router.get("/communities/{slug}/programs", response={200: list[ProgramOut], 404: ErrorsOut})
def list_programs(request: HttpRequest, slug: str) -> Any:
    """Programs the caller may see (the public sees public programs)."""
    community = _community(request, slug)
    return [
        {
            "id": p.pk,
            "name": p.name,
            "kind": p.kind,
            "summary": p.summary,
            "curriculum": p.curriculum,
            "audience": p.audience,
            "materials": p.material_lines(),
        }
        for p in Program.objects.visible_to(request.user).filter(community=community)
    ]


@router.get("/communities/{slug}/events", response={200: list[EventOut], 404: ErrorsOut})
def list_events(request: HttpRequest, slug: str) -> Any:
    """Events still to come that the caller may see, soonest first."""
    community = _community(request, slug)
    return [_event_out(e) for e in services.upcoming_events(community, request.user)]


@router.get("/communities/{slug}/events/{event_id}", response={200: EventOut, **ERRORS})
def get_event(request: HttpRequest, slug: str, event_id: int) -> Any:
    """One event with its sessions."""
    community = _community(request, slug)
    event = get_object_or_deny(
        Event.objects.filter(community=community).select_related("program"),
        request.user,
        "view",
        pk=event_id,
    )
    return _event_out(event)


@router.post(
    "/communities/{slug}/events/{event_id}/registrations",
    response={201: RegistrationOut, 200: RegistrationOut, **ERRORS},
)
def register(request: HttpRequest, slug: str, event_id: int, payload: RegistrationIn) -> Any:
    """Register for an event; no account needed (the email must then be confirmed).

    Send an ``Idempotency-Key`` header so a retry never registers twice. The answer
    never says whether someone else registered with the address.
    """
    community = _community(request, slug)
    event = get_object_or_deny(
        Event.objects.filter(community=community), request.user, "view", pk=event_id
    )
    user: Any = request.user

    def operation() -> tuple[int, dict[str, Any]]:
        result = services.register(
            event, payload.name, payload.email, user=user if user.is_authenticated else None
        )
        status = str(result.registration.status)
        details: dict[str, str] = {
            RegistrationStatus.PENDING: "Check your email for the link that confirms your place.",
            RegistrationStatus.CONFIRMED: "Your place is confirmed.",
            RegistrationStatus.WAITLISTED: "The event is full; you are on the waiting list.",
        }
        detail = details.get(status, "")
        if status != RegistrationStatus.PENDING and not user.is_authenticated:
            # Anyone may post an address: only its owner learns more, by email.
            status, detail = str(RegistrationStatus.PENDING), details[RegistrationStatus.PENDING]
        return 201, {"status": status, "detail": detail}

    scope = f"programs:register:{event.pk}:{getattr(user, 'pk', '') or 'anonymous'}"
    try:
        return run_once(scope, request.headers.get("Idempotency-Key"), payload.dict(), operation)
    except IdempotencyError as exc:
        return 409, {"detail": str(exc), "errors": {}}
    except services.ProgramError as exc:
        return 400, {"detail": str(exc), "errors": exc.errors}


@router.post("/communities/{slug}/events", response={201: EventOut, **ERRORS}, auth=django_auth)
def create_event(request: HttpRequest, slug: str, payload: EventIn) -> Any:
    """Create an event with its sessions (officers, supervisors, admins)."""
    community, actor = _staff(request, slug, ORGANISERS)
    program = None
    if payload.program_id is not None:
        program = Program.objects.filter(community=community, pk=payload.program_id).first()
        if program is None:
            return 400, {"detail": "program_id: no such program.", "errors": {}}
    try:
        with transaction.atomic():
            event = services.save_event(
                community,
                services.EventData(
                    title=payload.title,
                    kind=payload.kind,
                    program=program,
                    description=payload.description,
                    audience=payload.audience,
                    capacity=payload.capacity,
                    registration_open=payload.registration_open,
                ),
                actor=actor,
            )
            for index, session in enumerate(payload.sessions):
                try:
                    services.save_session(
                        event, services.SessionData(**session.dict()), actor=actor
                    )
                except services.ProgramError as exc:
                    raise services.ProgramError(
                        {f"sessions.{index}.{k}": v for k, v in exc.errors.items()}
                    ) from None
            if payload.publish:
                services.set_event_status(event, EventStatus.PUBLISHED, actor=actor)
    except services.ProgramError as exc:
        return 400, {"detail": str(exc), "errors": exc.errors}
    return 201, _event_out(event)


@router.get(
    "/communities/{slug}/programs/figures", response={200: FiguresOut, **ERRORS}, auth=django_auth
)
def get_figures(request: HttpRequest, slug: str, by: str = "program") -> Any:
    """Attendance and feedback per program, area or audience, month by month (staff)."""
    community, _actor = _staff(request, slug, STAFF_ROLES)
    if by not in figures.DIMENSIONS:
        return 400, {"detail": f"by must be one of {', '.join(figures.DIMENSIONS)}.", "errors": {}}
    result = figures.compute(community, by)
    return {
        "dimension": by,
        "rows": [r.as_dict() for r in result.rows],
        "totals": [r.as_dict() for r in result.totals],
    }
