"""Demo data for the concerns board and meetings.

Generated residents raise and support concerns in Vancouver neighbourhoods; two concerns
in the Mount Pleasant beat cross the support threshold and land on the agenda of next
week's beat meeting. Last month's meeting has minutes whose action items are on the
public tracker, one of them done with its result ("you said, we did"). Deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from beacon.core.geo import parse_area_geometry
from beacon.core.models import Area, AreaKind, Community, User
from beacon.core.roles import Role
from beacon.core.services import add_member
from beacon.forums import services
from beacon.forums.models import Concern, ConcernStatus

DEMO_BEAT = "Beat 5 Mount Pleasant"
RESIDENTS = 30

# title, body, category, neighbourhood, supporters (besides the author), days ago
CONCERNS: list[tuple[str, str, str, str, int, int]] = [
    (
        "Speeding on Main Street by the school",
        "Cars race down Main at school pick-up time; a child was nearly hit last week.",
        "traffic",
        "Mount Pleasant",
        13,
        12,
    ),
    (
        "Needles in Robson Park",
        "Used needles near the playground most mornings.",
        "drugs",
        "Mount Pleasant",
        10,
        9,
    ),
    (
        "Car break-ins on Quebec Street",
        "Three cars broken into on our block this month.",
        "property",
        "Mount Pleasant",
        4,
        5,
    ),
    (
        "Broken street lights on Ontario Street",
        "Four lights out between 16th and 20th; the lane is pitch dark.",
        "public_space",
        "Riley Park",
        6,
        45,
    ),
    (
        "Shoplifting along Commercial Drive",
        "Shop owners say thefts are up and staff feel unsafe.",
        "property",
        "Grandview-Woodland",
        7,
        8,
    ),
    (
        "Noise and fights outside bars on Granville",
        "Every weekend after 1 am.",
        "disorder",
        "Central Business District",
        9,
        6,
    ),
    (
        "Bike thefts at the SkyTrain station",
        "Locked bikes are stolen within hours.",
        "property",
        "Kensington-Cedar Cottage",
        3,
        3,
    ),
    (
        "Youth with nothing to do in the evenings",
        "The community centre closes at 6 pm.",
        "youth",
        "Sunset",
        2,
        2,
    ),
]


def _point(area: Area) -> tuple[float, float]:
    point = parse_area_geometry(area.geometry).representative_point()
    return point.y, point.x


def _residents(community: Community) -> list[User]:
    """Generated residents (no password: they exist to raise and support concerns)."""
    users = []
    for number in range(1, RESIDENTS + 1):
        email = f"resident{number:02d}@demo.beacon"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(email=email, display_name=f"Resident {number:02d}")
            user.set_unusable_password()
            user.save()
        add_member(user, community, Role.RESIDENT)
        users.append(user)
    return users


def build_demo(community: Community, data_dir: Path, progress: Callable[[str], None]) -> None:
    """Concerns with supports, a beat meeting with its agenda, minutes and action items."""
    progress("Adding concerns, supports, beat meetings and action items")
    officer = User.objects.filter(email="officer@demo.beacon").first()
    supervisor = User.objects.filter(email="supervisor@demo.beacon").first()
    if officer is None or supervisor is None:
        return
    areas = {a.name: a for a in Area.objects.filter(community=community)}
    beat = (
        areas.get(DEMO_BEAT)
        or Area.objects.filter(community=community, kind=AreaKind.BEAT).order_by("pk").first()
    )
    now = timezone.now()
    with transaction.atomic():
        residents = _residents(community)
        services.settings_for(community)  # default threshold: 10 supports
        # Last month's beat meeting, with minutes, decisions and action items.
        lights = _raise(community, residents[0], CONCERNS[3], areas)
        services.answer_concern(
            lights,
            officer,
            "We have asked the city to repair the lights and will patrol the lane after dark "
            "until they are fixed.",
        )
        past = services.schedule_meeting(
            community,
            officer,
            services.MeetingInput(
                title=f"{beat.name if beat else 'Beat'} meeting — last month",
                starts_at=(now - timedelta(days=30)).replace(
                    hour=2, minute=0, second=0, microsecond=0
                ),
                venue="Mount Pleasant Community Centre, 1 Kingsway",
                area_id=beat.pk if beat else None,
            ),
        )
        services.add_agenda_item(past, officer, lights.title)
        today = timezone.localdate()
        items = services.record_minutes(
            past,
            officer,
            minutes=(
                "22 residents attended. Constable Olu gave the crime update for the beat. "
                "Residents raised the dark stretch of Ontario Street and speeding near the "
                "school. The city's engineering liaison joined online."
            ),
            decisions=[
                "Ask the city to repair the Ontario Street lights within two weeks.",
                "Patrol the lane behind Ontario Street after dark until the lights are fixed.",
            ],
            actions=[
                services.ActionInput(
                    "Report the broken lights to the city",
                    "Const. Olu Officer",
                    today - timedelta(days=20),
                    concern_id=lights.pk,
                    owner_id=officer.pk,
                ),
                services.ActionInput(
                    "Evening patrols of the Ontario Street lane",
                    "West beat team",
                    today + timedelta(days=10),
                ),
                services.ActionInput(
                    "Crime-prevention walk with residents",
                    "Sgt. Sam Supervisor",
                    today - timedelta(days=3),
                    owner_id=supervisor.pk,
                ),
            ],
        )
        services.record_attendance(past, officer, set(), walk_ins=22)
        services.update_action(
            items[0],
            officer,
            progress=100,
            status="completed",
            result="The city replaced all four lights on day nine.",
            note="Work order 4471",
        )
        services.update_action(
            items[1], officer, progress=60, status="in_progress", note="Twelve patrols so far."
        )
        services.set_concern_status(
            lights,
            officer,
            ConcernStatus.RESOLVED,
            result="Lights repaired; no incidents in the lane since.",
        )
        # Next week's beat meeting: concerns crossing the threshold join its agenda.
        upcoming = services.schedule_meeting(
            community,
            officer,
            services.MeetingInput(
                title=f"{beat.name if beat else 'Beat'} meeting",
                starts_at=(now + timedelta(days=7)).replace(
                    hour=2, minute=0, second=0, microsecond=0
                ),
                venue="Mount Pleasant Community Centre, 1 Kingsway",
                online_url="https://meet.example.org/beat-5",
                area_id=beat.pk if beat else None,
                description="Meet your beat officers; residents' top concerns are on the agenda.",
            ),
        )
        services.add_agenda_item(upcoming, officer, "Crime update from the beat officers")
        services.register(upcoming, user=residents[1])
        services.register(upcoming, name="Dana Nguyen", email="dana@example.org")
        for spec in CONCERNS[:3] + CONCERNS[4:]:
            _raise(community, residents[0], spec, areas, supporters=residents[1:])
        services.schedule_meeting(
            community,
            supervisor,
            services.MeetingInput(
                title="Community safety forum",
                kind="forum",
                starts_at=(now + timedelta(days=21)).replace(
                    hour=2, minute=0, second=0, microsecond=0
                ),
                venue="Vancouver Public Library, Central Branch",
            ),
        )
    on_agenda = upcoming.agenda.filter(concern__isnull=False).count()
    progress(f"  {on_agenda} concerns over the threshold are on the next beat meeting's agenda")


def _raise(
    community: Community,
    author: User,
    spec: tuple[str, str, str, str, int, int],
    areas: dict[str, Area],
    supporters: list[User] | None = None,
) -> Concern:
    title, body, category, place, support, days = spec
    area = areas.get(place) or next(
        (a for a in areas.values() if a.kind == AreaKind.NEIGHBOURHOOD), None
    )
    lat, lon = _point(area) if area is not None else (community.centre_lat, community.centre_lon)
    concern = services.raise_concern(
        community, author, services.ConcernInput(title, body, category, lat, lon)
    )
    created = timezone.now() - timedelta(days=days)
    Concern.objects.filter(pk=concern.pk).update(created_at=created)
    for user in (supporters or [])[:support]:
        services.support_concern(concern, user)
    concern.refresh_from_db()
    return concern
