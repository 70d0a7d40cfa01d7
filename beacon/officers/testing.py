"""Test support for officers: access-matrix factories."""

from __future__ import annotations

from django.db import models

from beacon.core.models import Area, AreaKind, Community, User
from beacon.core.roles import Role
from beacon.core.testing import World, access_factory
from beacon.officers.models import ActivityEntry, BeatAssignment, OfficerProfile


def _beat(community: Community) -> Area:
    return Area.objects.filter(community=community, kind=AreaKind.BEAT).order_by("pk")[0]


def _officer(community: Community, world: World) -> User:
    members = world.members if community == world.community else world.outsiders
    return members[Role.OFFICER]


@access_factory(BeatAssignment)
def _beat_assignment(community: Community, world: World) -> models.Model:
    return BeatAssignment.objects.create(
        community=community, beat=_beat(community), officer=_officer(community, world)
    )


@access_factory(OfficerProfile)
def _profile(community: Community, world: World) -> models.Model:
    return OfficerProfile.objects.create(
        community=community, user=_officer(community, world), display_name="Officer"
    )


@access_factory(ActivityEntry)
def _activity(community: Community, world: World) -> models.Model:
    return ActivityEntry.objects.create(
        community=community,
        officer=_officer(community, world),
        beat=_beat(community),
        kind="patrol",
        minutes=30,
    )
