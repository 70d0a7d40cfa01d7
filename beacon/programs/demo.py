"""Demo data for programs: a home-security workshop next week and a past one with figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from beacon.core.geo import parse_area_geometry
from beacon.core.models import Area, AreaKind, Community
from beacon.programs import services
from beacon.programs.models import Audience, CheckInMethod, Event, EventStatus, ProgramKind

NEIGHBOURHOOD = "Kitsilano"


def _venue(community: Community) -> tuple[float, float, str]:
    area = (
        Area.objects.filter(community=community, kind=AreaKind.NEIGHBOURHOOD, name=NEIGHBOURHOOD)
        .order_by("pk")
        .first()
        or Area.objects.filter(community=community, kind=AreaKind.NEIGHBOURHOOD)
        .order_by("name")
        .first()
    )
    if area is None:
        return community.centre_lat, community.centre_lon, community.name
    point = parse_area_geometry(area.geometry).representative_point()
    return round(point.y, 6), round(point.x, 6), area.name


def _at(community: Community, days: int, hour: int) -> datetime:
    zone = ZoneInfo(community.timezone)
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=zone)


def build_demo(community: Community, data_dir: Path, progress: Callable[[str], None]) -> None:
    """A home-security program, a workshop next week, and a past workshop with attendance."""
    if Event.objects.filter(community=community).exists():
        return
    progress("Programs: a home-security workshop next week")
    lat, lon, place = _venue(community)
    with transaction.atomic():
        home = services.save_program(
            community,
            services.ProgramData(
                name="Home security",
                kind=ProgramKind.HOME_SECURITY,
                summary="Locks, lighting, marking property and looking out for neighbours.",
                curriculum="1. How burglars choose homes\n2. Doors, windows and locks\n"
                "3. Lighting and sight lines\n4. Marking and recording property\n"
                "5. Reporting suspicious activity",
                audience=Audience.RESIDENTS,
                materials="Home security checklist (PDF)\nProperty marking kit",
            ),
        )
        services.save_program(
            community,
            services.ProgramData(
                name="Fraud prevention for seniors",
                kind=ProgramKind.FRAUD_PREVENTION,
                summary="Phone, email and doorstep scams and how to say no.",
                audience=Audience.SENIORS,
            ),
        )
        services.save_program(
            community,
            services.ProgramData(
                name="Cultural competency for officers",
                kind=ProgramKind.CULTURAL_COMPETENCY,
                audience=Audience.STAFF,
                is_public=False,
            ),
        )
        for title, days, capacity in (
            ("Home security workshop", 7, 25),
            ("Home security workshop (spring)", -30, 20),
        ):
            event = services.save_event(
                community,
                services.EventData(
                    title=title,
                    kind="workshop",
                    program=home,
                    description="Bring questions about your own home. Free; tea provided.",
                    audience=Audience.RESIDENTS,
                    capacity=capacity,
                ),
            )
            for offset in (0, 2):
                services.save_session(
                    event,
                    services.SessionData(
                        starts_at=_at(community, days + offset, 18),
                        ends_at=_at(community, days + offset, 20),
                        venue=f"{place} Community Centre",
                        address="Demo address",
                        lat=lat,
                        lon=lon,
                    ),
                )
            services.set_event_status(event, EventStatus.PUBLISHED)
        # The past workshop's registrations, check-ins and feedback feed the figures page.
        past = Event.objects.get(community=community, title="Home security workshop (spring)")
        first = past.sessions.order_by("starts_at")[0]
        for index in range(12):
            registration = services.add_walk_in(
                past, f"Demo attendee {index + 1}", f"attendee{index + 1}@example.org"
            )
            if index < 9:
                services.check_in(registration, first, actor=None, method=CheckInMethod.LIST)
                if index < 6:
                    services.leave_feedback(registration, 4 + index % 2, "")
