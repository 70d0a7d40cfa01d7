"""Test support for programs: a ready-made workshop, and access-matrix factories."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

from beacon.core.models import Community
from beacon.core.testing import World, access_factory
from beacon.programs import services
from beacon.programs.models import (
    Attendance,
    CheckInMethod,
    Event,
    EventStatus,
    Feedback,
    Program,
    ProgramKind,
    Registration,
    RegistrationStatus,
    Session,
)


def centre(community: Community) -> tuple[float, float]:
    """A point inside the community's boundary (lat, lon)."""
    ring = community.boundary["coordinates"][0]
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return (min(lats) + max(lats)) / 2 + 0.001, (min(lons) + max(lons)) / 2 - 0.001


def make_program(community: Community, name: str = "Home security basics") -> Program:
    """A public home-security program."""
    existing = Program.objects.filter(community=community, name=name).first()
    if existing is not None:
        return existing
    return services.save_program(
        community,
        services.ProgramData(
            name=name,
            kind=ProgramKind.HOME_SECURITY,
            summary="Locks, lights and neighbours.",
            curriculum="1. Doors and locks\n2. Lighting\n3. Marking property",
        ),
    )


def make_event(
    community: Community,
    *,
    capacity: int | None = 20,
    starts_in: timedelta = timedelta(days=7),
    sessions: int = 1,
    publish: bool = True,
    program: Program | None = None,
) -> Event:
    """A published home-security workshop with ``sessions`` two-hour sessions."""
    program = program or make_program(community)
    event = services.save_event(
        community,
        services.EventData(
            title="Home security workshop", kind="workshop", program=program, capacity=capacity
        ),
    )
    lat, lon = centre(community)
    start = (timezone.now() + starts_in).replace(microsecond=0)
    for index in range(sessions):
        begins = start + timedelta(days=7 * index)
        services.save_session(
            event,
            services.SessionData(
                starts_at=begins,
                ends_at=begins + timedelta(hours=2),
                venue="Community hall",
                address="100 Main St",
                lat=lat,
                lon=lon,
            ),
        )
    if publish:
        services.set_event_status(event, EventStatus.PUBLISHED)
    event.refresh_from_db()
    return event


def confirmed_registration(event: Event, email: str = "person@example.org") -> Registration:
    """A registration confirmed without the email round trip."""
    registration = services.register(event, "Pat Person", email).registration
    return services.confirm(registration)


@access_factory(Program)
def _program(community: Community, world: World) -> models.Model:
    return make_program(community)


@access_factory(Event)
def _event(community: Community, world: World) -> models.Model:
    return make_event(community)


@access_factory(Session)
def _session(community: Community, world: World) -> models.Model:
    return make_event(community).sessions.all()[0]


@access_factory(Registration)
def _registration(community: Community, world: World) -> models.Model:
    return confirmed_registration(make_event(community))


@access_factory(Attendance)
def _attendance(community: Community, world: World) -> models.Model:
    registration = confirmed_registration(make_event(community))
    session = registration.event.sessions.all()[0]
    return services.check_in(registration, session, actor=None, method=CheckInMethod.LIST)[0]


@access_factory(Feedback)
def _feedback(community: Community, world: World) -> models.Model:
    event = make_event(community, starts_in=timedelta(hours=-1))
    registration = confirmed_registration(event)
    assert registration.status == RegistrationStatus.CONFIRMED
    return services.leave_feedback(registration, 4, "Useful")
