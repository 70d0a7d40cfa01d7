"""Test support shared by every app: named users in two communities, and the
registry of object factories the generated access tests use.

Every app's ``testing.py`` registers a factory for each of its community-scoped models
with :func:`access_factory`; ``beacon/core/tests/test_access_matrix.py`` then checks
every role against every action on every model, and fails for a model without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis.extra.django import TestCase

from beacon.core import services
from beacon.core.audit import record_event
from beacon.core.models import (
    Area,
    AreaKind,
    AuditEvent,
    Community,
    Membership,
    Organization,
    User,
)
from beacon.core.roles import Role

# A 2.2 km × 2.2 km square in Vancouver and one next to it.
NORTH_BOX = (-123.14, 49.26, -123.11, 49.28)
SOUTH_BOX = (-123.14, 49.23, -123.11, 49.25)


def box_polygon(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    """A GeoJSON Polygon for a lon/lat box."""
    return {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
    }


def make_community(slug: str, box: tuple[float, float, float, float]) -> Community:
    """A community with a boundary, two beats and two neighbourhoods splitting it."""
    organization, _ = Organization.objects.get_or_create(
        slug=f"{slug}-police", defaults={"name": f"{slug.title()} Police"}
    )
    west, south, east, north = box
    community = Community.objects.create(
        organization=organization,
        name=slug.title(),
        slug=slug,
        timezone="America/Vancouver",
        centre_lat=(south + north) / 2,
        centre_lon=(west + east) / 2,
        boundary=box_polygon(*box),
    )
    middle_lon = (west + east) / 2
    middle_lat = (south + north) / 2
    services.save_area(
        community, AreaKind.BEAT, "West beat", box_polygon(west, south, middle_lon, north)
    )
    services.save_area(
        community, AreaKind.BEAT, "East beat", box_polygon(middle_lon, south, east, north)
    )
    services.save_area(
        community, AreaKind.NEIGHBOURHOOD, "Southside", box_polygon(west, south, east, middle_lat)
    )
    services.save_area(
        community, AreaKind.NEIGHBOURHOOD, "Northside", box_polygon(west, middle_lat, east, north)
    )
    return community


@dataclass
class World:
    """Two communities with a member of every role in each."""

    community: Community
    other_community: Community
    members: dict[str, User]
    outsiders: dict[str, User]

    @property
    def anonymous(self) -> AnonymousUser:
        return AnonymousUser()


def make_user(email: str, community: Community | None = None, role: str | None = None) -> User:
    """A user, optionally with one role in ``community``."""
    user = User.objects.create_user(email, "correct-horse-battery", display_name=email)
    if community is not None and role is not None:
        services.add_member(user, community, role)
    return user


def make_world() -> World:
    """Build the two communities and their named users."""
    community = make_community("north", NORTH_BOX)
    other = make_community("south", SOUTH_BOX)
    members = {role: make_user(f"{role}@north.test", community, role) for role in Role.values}
    outsiders = {role: make_user(f"{role}@south.test", other, role) for role in Role.values}
    return World(community, other, members, outsiders)


def verified_login(client: Client, user: User) -> None:
    """Sign ``user`` in on ``client`` as if they had passed TOTP."""
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="test", defaults={"confirmed": True}
    )
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()


class BeaconTestCase(TestCase):
    """Base class with named users.

    ``self.resident``, ``self.officer``, … are members of ``self.community``;
    ``self.outsider`` is an officer of ``self.other_community``. Hypothesis-aware, so
    ``@given`` works on its methods.
    """

    world: World
    community: Community
    other_community: Community
    resident: User
    watch_coordinator: User
    officer: User
    analyst: User
    supervisor: User
    partner: User
    admin: User
    outsider: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.world = make_world()
        cls.community = cls.world.community
        cls.other_community = cls.world.other_community
        for role, user in cls.world.members.items():
            setattr(cls, role, user)
        cls.outsider = cls.world.outsiders[Role.OFFICER]

    def login(self, user: User) -> None:
        """Sign in on ``self.client`` with the second factor passed."""
        verified_login(self.client, user)

    def area(self, name: str) -> Area:
        return Area.objects.get(community=self.community, name=name)


Factory = Callable[[Community, World], models.Model]
ACCESS_FACTORIES: dict[type[models.Model], Factory] = {}


def access_factory(model: type[models.Model]) -> Callable[[Factory], Factory]:
    """Register the function that makes a typical ``model`` row in a community."""

    def register(factory: Factory) -> Factory:
        ACCESS_FACTORIES[model] = factory
        return factory

    return register


@access_factory(Organization)
def _organization(community: Community, world: World) -> models.Model:
    return community.organization


@access_factory(Community)
def _community(community: Community, world: World) -> models.Model:
    return community


@access_factory(Area)
def _area(community: Community, world: World) -> models.Model:
    return Area.objects.filter(community=community).order_by("pk")[0]


@access_factory(Membership)
def _membership(community: Community, world: World) -> models.Model:
    return Membership.objects.get(community=community, role=Role.RESIDENT)


@access_factory(AuditEvent)
def _audit_event(community: Community, world: World) -> models.Model:
    return record_event(action="test", community_id=community.pk, object_type="test")
