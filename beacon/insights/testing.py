"""Test support: access factories for the insights models."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
from django.db import models

from beacon.core.models import AreaKind, Community
from beacon.core.services import area_at
from beacon.core.testing import World, access_factory
from beacon.incidents.models import Incident
from beacon.incidents.testing import make_incident
from beacon.insights.models import AnalysisRun, RiskZone, RunKind
from beacon.insights.params import clean_parameters


def make_run(community: Community, kind: str = RunKind.GI, **extra: object) -> AnalysisRun:
    """A stored run row (not computed), with the kind's default parameters."""
    values: dict[str, object] = {
        "community": community,
        "kind": kind,
        "parameters": clean_parameters(kind, {}),
        "window_start": dt.date(2024, 1, 1),
        "window_end": dt.date(2024, 3, 31),
        **extra,
    }
    return AnalysisRun.objects.create(**values)


#: The last day of the seeded incidents.
SEED_END = dt.date(2024, 4, 29)
SEED_DAYS = 120
HOT_SPOT = (49.275, -123.13)


def seed_incidents(community: Community, seed: int = 7) -> list[Incident]:
    """About 300 incidents over 120 days ending on :data:`SEED_END` in the test box
    (lon -123.14..-123.11, lat 49.26..49.28) with structure to find: a hot spot of
    vehicle crime around :data:`HOT_SPOT`, burglaries followed by near repeats (30-80 m,
    1-6 days later) and eight in the last five days, and a surge of thefts in Northside
    in the last 28 days. Each incident gets its beat and neighbourhood as the importer
    would set them."""
    rng = np.random.default_rng(seed)
    zone = zoneinfo.ZoneInfo(community.timezone)
    start = dt.datetime.combine(SEED_END - dt.timedelta(days=SEED_DAYS - 1), dt.time(), zone)
    rows: list[tuple[float, float, float, str]] = []  # lat, lon, day offset, offence
    offences = ["burglary_residential", "theft_from_vehicle", "theft_other"]
    for i in range(150):
        rows.append(
            (
                float(rng.uniform(49.2605, 49.2795)),
                float(rng.uniform(-123.1395, -123.1105)),
                float(rng.uniform(0, SEED_DAYS - 28)),
                offences[i % 3],
            )
        )
    for _ in range(45):
        rows.append(
            (
                HOT_SPOT[0] + float(rng.normal(0, 0.0006)),
                HOT_SPOT[1] + float(rng.normal(0, 0.0009)),
                float(rng.uniform(0, SEED_DAYS)),
                "theft_from_vehicle",
            )
        )
    for _ in range(30):
        lat = float(rng.uniform(49.2615, 49.2785))
        lon = float(rng.uniform(-123.1385, -123.1115))
        day = float(rng.uniform(0, SEED_DAYS - 8))
        rows.append((lat, lon, day, "burglary_residential"))
        for _ in range(2):
            angle, dist = float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(30, 80))
            rows.append(
                (
                    lat + dist * np.sin(angle) / 111_320,
                    lon + dist * np.cos(angle) / (111_320 * np.cos(np.radians(lat))),
                    day + float(rng.uniform(1, 6)),
                    "burglary_residential",
                )
            )
    for _ in range(30):
        rows.append(
            (
                float(rng.uniform(49.2705, 49.2795)),
                float(rng.uniform(-123.1395, -123.1105)),
                float(rng.uniform(SEED_DAYS - 28, SEED_DAYS - 0.01)),
                "theft_other",
            )
        )
    for i in range(8):  # recent burglaries, in both beats, the last on the last day
        rows.append(
            (
                float(rng.uniform(49.2615, 49.2785)),
                -123.135 + 0.02 * (i % 2) + float(rng.uniform(-0.003, 0.003)),
                SEED_DAYS - 0.5 - 0.6 * i,
                "burglary_residential",
            )
        )
    made = []
    for lat, lon, day, offence in rows:
        made.append(
            make_incident(
                community,
                lat=round(lat, 6),
                lon=round(lon, 6),
                when=start + dt.timedelta(days=day),
                offence=offence,
                beat=area_at(community, AreaKind.BEAT, lat, lon),
                neighbourhood=area_at(community, AreaKind.NEIGHBOURHOOD, lat, lon),
            )
        )
    return made


@access_factory(AnalysisRun)
def _run(community: Community, world: World) -> models.Model:
    return make_run(community)


@access_factory(RiskZone)
def _zone(community: Community, world: World) -> models.Model:
    incident = make_incident(community, offence="burglary_residential")
    assert incident.lat is not None and incident.lon is not None
    return RiskZone.objects.create(
        community=community,
        incident=incident,
        offence_group="burglary",
        starts_on=dt.date(2024, 3, 15),
        ends_on=dt.date(2024, 4, 5),
        radius_m=100.0,
        lat=incident.lat,
        lon=incident.lon,
        public_lat=round(incident.lat, 3),
        public_lon=round(incident.lon, 3),
        public_radius_m=300.0,
    )
