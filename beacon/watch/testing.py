"""Test support for watch: access-matrix factories and a ready-made group."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

from beacon.core.models import Area, AreaKind, Community, User
from beacon.core.roles import Role
from beacon.core.testing import World, access_factory
from beacon.watch import services
from beacon.watch.models import (
    BoardMessage,
    MemberStatus,
    PatrolLog,
    TrainingModule,
    TrainingRecord,
    WatchGroup,
    WatchMembership,
)


def make_group(
    community: Community, coordinator: User, name: str = "Northside Watch"
) -> WatchGroup:
    """A group over the community's first neighbourhood, coordinated by ``coordinator``."""
    area = Area.objects.filter(community=community, kind=AreaKind.NEIGHBOURHOOD).order_by("name")[0]
    return services.save_group(community, actor=coordinator, name=name, neighbourhood_ids=[area.pk])


def _members(community: Community, world: World) -> dict[str, User]:
    return world.members if community == world.community else world.outsiders


def _group(community: Community, world: World) -> WatchGroup:
    existing = WatchGroup.objects.filter(community=community).first()
    return existing or make_group(community, _members(community, world)[Role.WATCH_COORDINATOR])


def _membership(community: Community, world: World) -> WatchMembership:
    group = _group(community, world)
    membership, _created = WatchMembership.objects.get_or_create(
        community=community,
        group=group,
        user=_members(community, world)[Role.RESIDENT],
        defaults={"status": MemberStatus.ACTIVE},
    )
    return membership


@access_factory(WatchGroup)
def _watch_group(community: Community, world: World) -> models.Model:
    return _group(community, world)


@access_factory(WatchMembership)
def _watch_membership(community: Community, world: World) -> models.Model:
    return _membership(community, world)


@access_factory(TrainingModule)
def _module(community: Community, world: World) -> models.Model:
    return TrainingModule.objects.create(community=community, title="Observation skills")


@access_factory(TrainingRecord)
def _record(community: Community, world: World) -> models.Model:
    return TrainingRecord.objects.create(
        community=community,
        membership=_membership(community, world),
        module=TrainingModule.objects.create(community=community, title="Reporting"),
        completed_on=timezone.localdate(),
    )


@access_factory(PatrolLog)
def _patrol(community: Community, world: World) -> models.Model:
    now = timezone.now()
    return PatrolLog.objects.create(
        community=community,
        group=_group(community, world),
        author=_members(community, world)[Role.RESIDENT],
        started_at=now - timedelta(hours=2),
        ended_at=now - timedelta(hours=1),
        route="Main Street",
    )


@access_factory(BoardMessage)
def _message(community: Community, world: World) -> models.Model:
    return BoardMessage.objects.create(
        community=community,
        group=_group(community, world),
        author=_members(community, world)[Role.RESIDENT],
        body="Hello",
    )
