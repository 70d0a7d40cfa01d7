"""Test support: access factories for the incident models and an incident maker."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.db import models
from django.utils import timezone
from h3.api import basic_int as h3i

from beacon.core.models import Community
from beacon.core.testing import World, access_factory
from beacon.incidents import taxonomy
from beacon.incidents.models import (
    Incident,
    IncidentImport,
    LocationStatus,
    PublicationPolicy,
)
from beacon.incidents.privacy import policy_for

_serial = 0


def make_incident(
    community: Community,
    *,
    lat: float | None = 49.27,
    lon: float | None = -123.125,
    when: dt.datetime | None = None,
    offence: str = "theft_other",
    source: str = "test",
    external_id: str | None = None,
    sensitive: bool | None = None,
    reported_at: dt.datetime | None = None,
    time_known: bool = True,
    **extra: Any,
) -> Incident:
    """An incident with consistent derived fields (cell, calendar fields, group)."""
    global _serial
    _serial += 1
    zone = zoneinfo.ZoneInfo(community.timezone)
    when = when or dt.datetime(2024, 3, 15, 14, 30, tzinfo=zone)
    local = when.astimezone(zone)
    group = taxonomy.OFFENCES[offence].group
    now = timezone.now()
    mapped = lat is not None and lon is not None
    return Incident.objects.create(
        community=community,
        source=source,
        external_id=external_id or f"t{_serial}",
        occurred_from=when,
        occurred_to=None if time_known else when + dt.timedelta(days=1),
        reported_at=reported_at,
        local_month=dt.date(local.year, local.month, 1),
        local_weekday=local.weekday() if time_known else None,
        local_hour=local.hour if time_known else None,
        offence=offence,
        offence_group=group,
        source_offence=taxonomy.OFFENCES[offence].label,
        sensitive=group in taxonomy.SENSITIVE_GROUPS if sensitive is None else sensitive,
        lat=lat if mapped else None,
        lon=lon if mapped else None,
        cell=h3i.latlng_to_cell(lat, lon, 10) if mapped else None,
        location_status=LocationStatus.MAPPED if mapped else LocationStatus.MISSING,
        content_hash="x",
        created_at=now,
        updated_at=now,
        **extra,
    )


@access_factory(Incident)
def _incident(community: Community, world: World) -> models.Model:
    return make_incident(community)


@access_factory(IncidentImport)
def _import(community: Community, world: World) -> models.Model:
    return IncidentImport.objects.create(community=community, fmt="beacon", source="beacon")


@access_factory(PublicationPolicy)
def _policy(community: Community, world: World) -> models.Model:
    return policy_for(community)
