"""Test support for the forums app: access-matrix factories and small builders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from beacon.core.models import Community, User
from beacon.core.roles import Role
from beacon.core.testing import World, access_factory
from beacon.forums import services
from beacon.forums.models import (
    ActionItem,
    ActionUpdate,
    AgendaItem,
    Concern,
    ConcernSupport,
    Decision,
    ForumSettings,
    Meeting,
    Registration,
)


def centre(community: Community) -> tuple[float, float]:
    """A point a quarter of the way across the community's boundary box (west beat)."""
    ring = community.boundary["coordinates"][0]
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return (min(lats) + max(lats)) / 2 + 0.001, min(lons) + (max(lons) - min(lons)) / 4


def concern_input(community: Community, **overrides: Any) -> services.ConcernInput:
    """A valid concern in the west beat of ``community``."""
    lat, lon = centre(community)
    data: dict[str, Any] = {
        "title": "Speeding on the school road",
        "body": "Cars race past the school at pick-up time.",
        "category": "traffic",
        "lat": lat,
        "lon": lon,
    }
    data.update(overrides)
    return services.ConcernInput(**data)


def make_concern(community: Community, author: User | None = None, **overrides: Any) -> Concern:
    """Raise a concern as ``author`` (a new resident by default)."""
    if author is None:
        author = resident(community, f"author{Concern.objects.count()}")
    return services.raise_concern(community, author, concern_input(community, **overrides))


def resident(community: Community, name: str) -> User:
    """A new resident member of ``community``."""
    from beacon.core.services import add_member

    user = User.objects.create_user(f"{name}@{community.slug}.residents.test", "x" * 12)
    add_member(user, community, Role.RESIDENT)
    return user


def staff_of(community: Community) -> User:
    """An officer of ``community`` (created if needed)."""
    from beacon.core.models import Membership

    membership = Membership.objects.filter(community=community, role=Role.OFFICER).first()
    if membership is not None:
        return membership.user
    from beacon.core.services import add_member

    user = User.objects.create_user(f"officer-forums@{community.slug}.test", "x" * 12)
    add_member(user, community, Role.OFFICER)
    return user


def make_meeting(community: Community, *, days: int = 7, area: Any = None, **extra: Any) -> Meeting:
    """A meeting ``days`` from now, scheduled through the service."""
    data = services.MeetingInput(
        title=extra.pop("title", "West beat meeting"),
        starts_at=timezone.now() + timedelta(days=days),
        venue=extra.pop("venue", "Community hall"),
        area_id=area.pk if area is not None else None,
        **extra,
    )
    return services.schedule_meeting(community, staff_of(community), data)


def _past_meeting(community: Community) -> Meeting:
    return Meeting.objects.create(
        community=community,
        title="Past meeting",
        starts_at=timezone.now() - timedelta(days=1),
        venue="Hall",
    )


@access_factory(ForumSettings)
def _settings(community: Community, world: World) -> models.Model:
    return services.settings_for(community)


@access_factory(Concern)
def _concern(community: Community, world: World) -> models.Model:
    return make_concern(community)


@access_factory(ConcernSupport)
def _support(community: Community, world: World) -> models.Model:
    return make_concern(community).supports.get()


@access_factory(Meeting)
def _meeting(community: Community, world: World) -> models.Model:
    return make_meeting(community)


@access_factory(AgendaItem)
def _agenda_item(community: Community, world: World) -> models.Model:
    meeting = make_meeting(community)
    return services.add_agenda_item(meeting, staff_of(community), "Welcome")


@access_factory(Registration)
def _registration(community: Community, world: World) -> models.Model:
    return services.register(make_meeting(community), name="Pat", email="pat@example.test")


@access_factory(Decision)
def _decision(community: Community, world: World) -> models.Model:
    meeting = _past_meeting(community)
    services.record_minutes(
        meeting, staff_of(community), minutes="Met.", decisions=["Ask for a crosswalk"], actions=[]
    )
    return meeting.decisions.get()


def _action(community: Community) -> ActionItem:
    return services.create_action_item(
        community,
        staff_of(community),
        services.ActionInput(
            title="Ask the city for speed humps",
            owner_name="Traffic unit",
            due_date=timezone.localdate() + timedelta(days=30),
        ),
    )


@access_factory(ActionItem)
def _action_item(community: Community, world: World) -> models.Model:
    return _action(community)


@access_factory(ActionUpdate)
def _action_update(community: Community, world: World) -> models.Model:
    item = _action(community)
    services.update_action(item, staff_of(community), progress=20, status="in_progress")
    return item.updates.get()
