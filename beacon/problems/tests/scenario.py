"""Synthetic incidents with a theft-from-vehicle hot spot, and an independent recount.

The hot spot sits at the centre of :data:`beacon.problems.testing.TARGET` in the test
community; background incidents are spread over the whole community, so the control
area, the buffer and the control buffer all get some. Before the response start the
hot spot is busy, after it quieter. Everything is seeded: the same data every run.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from typing import Any

from shapely.geometry import Point
from shapely.geometry import shape as to_shape

from beacon.analytics import evaluation as library
from beacon.core.models import Community
from beacon.incidents.models import Incident
from beacon.incidents.testing import make_incident
from beacon.problems.testing import TARGET, bbox

YEAR = 2024
RESPONSE_START = dt.date(YEAR, 7, 1)
PERIOD_DAYS = 120


def _when(rng: random.Random, zone: zoneinfo.ZoneInfo, start: dt.date, end: dt.date) -> dt.datetime:
    day = start + dt.timedelta(days=rng.randrange((end - start).days))
    return dt.datetime(
        day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=zone
    )


def seed_incidents(community: Community, seed: int = 11) -> None:
    """About 640 incidents: a hot spot of thefts from vehicles, background vehicle crime
    (thefts from and of vehicles) everywhere, and a few burglaries."""
    rng = random.Random(seed)
    zone = zoneinfo.ZoneInfo(community.timezone)
    west, south, east, north = bbox(community)
    centre_lon = west + (TARGET[0] + TARGET[2]) / 2 * (east - west)
    centre_lat = south + (TARGET[1] + TARGET[3]) / 2 * (north - south)
    year_start, year_end = dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)
    # The hot spot: 120 before the response start, 30 after (within ~120 m).
    for count, start, end in ((120, year_start, RESPONSE_START), (30, RESPONSE_START, year_end)):
        for _ in range(count):
            make_incident(
                community,
                lat=centre_lat + rng.uniform(-0.0009, 0.0009),
                lon=centre_lon + rng.uniform(-0.0013, 0.0013),
                when=_when(rng, zone, start, end),
                offence="theft_from_vehicle",
            )
    for offence, count in (
        ("theft_from_vehicle", 160),
        ("theft_of_vehicle", 40),
        ("burglary_residential", 30),
    ):
        for _ in range(count):
            make_incident(
                community,
                lat=rng.uniform(south + 0.0002, north - 0.0002),
                lon=rng.uniform(west + 0.0002, east - 0.0002),
                when=_when(rng, zone, year_start, year_end),
                offence=offence,
            )


def recount(
    community: Community,
    geometry: dict[str, Any],
    offences: set[str],
    start: dt.date,
    end: dt.date,
) -> int:
    """Incidents of ``offences`` inside ``geometry`` on local dates ``[start, end)``,
    counted one by one with shapely points: independent of the app's counting."""
    if not geometry:
        return 0
    zone = zoneinfo.ZoneInfo(community.timezone)
    area = to_shape(geometry)
    total = 0
    for incident in Incident.objects.filter(community=community, offence__in=offences):
        if incident.lat is None or incident.lon is None:
            continue
        day = incident.occurred_from.astimezone(zone).date()
        if start <= day < end and area.intersects(Point(incident.lon, incident.lat)):
            total += 1
    return total


def expected_figures(
    assessment: Any, offences: set[str]
) -> tuple[dict[str, list[int]], dict[str, Any]]:
    """Recount the assessment's zones and call the library directly on the counts."""
    community = assessment.community
    zones = {
        "target": assessment.target_geometry,
        "buffer": assessment.buffer_geometry,
        "control": assessment.control_geometry,
        "control_buffer": assessment.control_buffer_geometry,
    }
    counts = {
        name: [
            recount(community, geometry, offences, assessment.before_start, assessment.after_start),
            recount(community, geometry, offences, assessment.after_start, assessment.after_end),
        ]
        for name, geometry in zones.items()
    }
    t, b, c, cb = (
        (counts[n][0], counts[n][1]) for n in ("target", "buffer", "control", "control_buffer")
    )
    days = assessment.period_days
    figures = {
        "rate_ratio": library.rate_ratio(
            t[0], t[1], exposure_before=days, exposure_after=days
        ).to_dict(),
        "relative": library.ratio_of_ratios(t, c).to_dict(),
        "wdq": library.wdq(t, b, c).to_dict(),
        "wdd": library.wdd(t, c, b, cb).to_dict(),
    }
    return counts, figures
