"""Test support for alerts: access-matrix factories and helpers to subscribe and deliver."""

from __future__ import annotations

from django.db import models

from beacon.core.models import Community
from beacon.core.roles import Role
from beacon.core.testing import World, access_factory
from beacon.notify import covers
from beacon.notify.models import (
    AlertEvent,
    Channel,
    OutboxMessage,
    Subscription,
    Topic,
    topic_mask,
)


def centre(community: Community) -> tuple[float, float]:
    """The community's centre point."""
    return community.centre_lat, community.centre_lon


@access_factory(Subscription)
def _subscription(community: Community, world: World) -> models.Model:
    lat, lon = centre(community)
    owner = world.members[Role.RESIDENT] if community == world.community else None
    return Subscription.objects.create(
        community=community,
        user=owner,
        cover=covers.cover_for_radius(community, lat, lon, 300),
        topics=topic_mask([Topic.INCIDENT]),
        channel=Channel.EMAIL,
        target="someone@example.org",
    )


@access_factory(AlertEvent)
def _event(community: Community, world: World) -> models.Model:
    lat, lon = centre(community)
    return AlertEvent.objects.create(
        community=community, topic=Topic.BROADCAST, key="k", title="Hello", lat=lat, lon=lon
    )


@access_factory(OutboxMessage)
def _message(community: Community, world: World) -> models.Model:
    owner = world.members[Role.RESIDENT] if community == world.community else None
    return OutboxMessage.objects.create(
        community=community,
        user=owner,
        channel=Channel.EMAIL,
        target="someone@example.org",
        dedupe_key=f"test-{community.pk}",
        subject="s",
        body="b",
    )
