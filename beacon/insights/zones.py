"""Near-repeat risk zones: one per new burglary or vehicle crime.

After a burglary or a theft from or of a vehicle, the risk of another one nearby stays
raised for a while. How far and how long comes from the community's latest Knox run
for that offence group (:func:`beacon.insights.stats.near_repeat_window`); every
incident of the group within that many days of the data's last day gets a zone.

Officers see the zones with their true centres (their beats first); watch
coordinators see only the masked circle (centred on the incidents app's public cell,
widened by that cell's radius so it holds the whole true zone; their groups' areas
first); public alerts go to the notify app's near-repeat topic with the masked circle
only, and only while the zone is open.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from h3.api import basic_int as h3i
from shapely.geometry import Point

from beacon.core.access import member_community_ids
from beacon.core.models import Community
from beacon.core.roles import STAFF_ROLES
from beacon.incidents.models import Incident, IncidentStatus
from beacon.incidents.taxonomy import GROUPS
from beacon.insights.models import AnalysisRun, RiskZone, RunKind, RunStatus
from beacon.insights.services import data_end, latest_run, local_today

#: Offence groups that get near-repeat zones: burglary and vehicle crime.
NEAR_REPEAT_GROUPS: tuple[str, ...] = ("burglary", "vehicle")
_EARTH_RADIUS_M = 6_371_008.8
_CIRCLE_SIDES = 32


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def masked_cells(community: Community, cells: Iterable[int]) -> dict[int, int]:
    """The public (masked) cell of each resolution-10 incident cell, where known.

    The incidents app stores each incident cell's masked cell with its site counts at
    every publication (``SiteCellCount.public``, the same rule as
    :func:`beacon.incidents.privacy.public_cell_for`); reading those in one query
    instead of one look-up per zone keeps a refresh of hundreds of zones fast. Cells
    counted since the last publication are missing here and are looked up one by one.
    """
    from beacon.incidents.models import SiteCellCount

    wanted = sorted({int(c) for c in cells})
    found: dict[int, int] = {}
    for lo in range(0, len(wanted), 900):
        rows = SiteCellCount.objects.filter(
            community=community, cell__in=wanted[lo : lo + 900], public__gt=0
        ).values_list("cell", "public")
        found.update((int(c), int(p)) for c, p in rows)
    return found


def public_circle(
    community: Community,
    lat: float,
    lon: float,
    radius_m: float,
    public_cell: int | None = None,
) -> tuple[float, float, float]:
    """The masked circle ``(lat, lon, radius)`` that contains the true zone.

    Centred on the incidents app's public cell for the point (the smallest cell with k
    distinct sites, as on the public map; ``public_cell`` when the caller knows it);
    its radius is the zone's plus the cell's circumradius, rounded up to 10 m, so it
    reveals no more than the cell does.
    """
    from beacon.incidents.privacy import MIN_POINT_RESOLUTION, public_cell_for

    cell = (
        public_cell
        or public_cell_for(community, lat, lon)
        or h3i.latlng_to_cell(lat, lon, MIN_POINT_RESOLUTION)
    )
    centre_lat, centre_lon = h3i.cell_to_latlng(cell)
    reach = max(_distance_m(centre_lat, centre_lon, a, b) for a, b in h3i.cell_to_boundary(cell))
    radius = math.ceil((radius_m + reach) / 10.0) * 10.0
    return round(centre_lat, 6), round(centre_lon, 6), radius


def circle_geometry(lat: float, lon: float, radius_m: float) -> dict[str, Any]:
    """A GeoJSON polygon approximating a circle (32 sides, outside the true circle)."""
    # Put the polygon's vertices slightly outside so its edges never cut the circle.
    r = max(radius_m, 1.0) / math.cos(math.pi / _CIRCLE_SIDES)
    dlat = math.degrees(r / _EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    ring = [
        [
            round(lon + dlon * math.cos(2 * math.pi * i / _CIRCLE_SIDES), 6),
            round(lat + dlat * math.sin(2 * math.pi * i / _CIRCLE_SIDES), 6),
        ]
        for i in range(_CIRCLE_SIDES)
    ]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def knox_run_for(community: Community, group: str) -> AnalysisRun | None:
    """The latest finished Knox run of exactly this offence group."""
    return latest_run(community, RunKind.KNOX, [group])


@dataclass
class ZoneRefresh:
    """What a refresh did."""

    created: int = 0
    published: int = 0


def refresh_risk_zones(
    community: Community, as_of: dt.date | None = None, *, publish: bool = True
) -> ZoneRefresh:
    """Create the zones of incidents whose risk window holds ``as_of``; idempotent.

    ``as_of`` defaults to the last day of data (see
    :func:`beacon.insights.services.data_end`). Zones still open today are published
    to the near-repeat alert topic (masked circle only) when ``publish`` is true.
    """
    as_of = as_of or data_end(community)
    zone_tz = zoneinfo.ZoneInfo(community.timezone)
    today = local_today(community)
    done = ZoneRefresh()
    for group in NEAR_REPEAT_GROUPS:
        run = knox_run_for(community, group)
        window = (run.results or {}).get("zone") if run is not None else None
        if run is None or not window:
            continue
        days = int(window["days"])
        radius = float(window["distance_m"])
        first = as_of - dt.timedelta(days=days - 1)
        incidents = (
            Incident.objects.filter(
                community=community,
                offence_group=group,
                sensitive=False,
                lat__isnull=False,
                lon__isnull=False,
                occurred_from__gte=dt.datetime.combine(first, dt.time(), tzinfo=zone_tz),
                occurred_from__lt=dt.datetime.combine(
                    as_of + dt.timedelta(days=1), dt.time(), tzinfo=zone_tz
                ),
            )
            .exclude(status=IncidentStatus.UNFOUNDED)
            .exclude(pk__in=RiskZone.objects.filter(community=community).values("incident_id"))
            .select_related("neighbourhood")
            .order_by("occurred_from", "pk")
        )
        new = list(incidents)
        public_cells = masked_cells(community, (i.cell for i in new if i.cell))
        zones = []
        for incident in new:
            assert incident.lat is not None and incident.lon is not None
            day = incident.occurred_from.astimezone(zone_tz).date()
            public_lat, public_lon, public_radius = public_circle(
                community,
                incident.lat,
                incident.lon,
                radius,
                public_cells.get(int(incident.cell or 0)),
            )
            zones.append(
                RiskZone(
                    community=community,
                    incident=incident,
                    run=run,
                    offence_group=group,
                    starts_on=day,
                    ends_on=day + dt.timedelta(days=days),
                    radius_m=radius,
                    lat=incident.lat,
                    lon=incident.lon,
                    public_lat=public_lat,
                    public_lon=public_lon,
                    public_radius_m=public_radius,
                    beat_id=incident.beat_id,
                    neighbourhood_id=incident.neighbourhood_id,
                )
            )
        ids = [i.pk for i in new]
        with transaction.atomic():
            # A refresh running at the same time may have made some: the one-zone-per-
            # incident constraint keeps theirs, and publishing is idempotent by key.
            RiskZone.objects.bulk_create(zones, batch_size=500, ignore_conflicts=True)
            done.created += len(zones)
            if publish:
                by_incident = {i.pk: i for i in new}
                open_zones = RiskZone.objects.filter(
                    incident_id__in=ids, alert_key="", ends_on__gt=today
                )
                for zone in open_zones:
                    done.published += _publish(community, zone, by_incident[zone.incident_id])
    return done


def _publish(community: Community, zone: RiskZone, incident: Incident) -> bool:
    """Publish the zone's masked circle to near-repeat subscribers (inside the caller's
    transaction, as the notify app asks)."""
    from beacon.notify.models import Topic
    from beacon.notify.services import is_sensitive_group, publish_event

    if is_sensitive_group(zone.offence_group):
        return False
    group = GROUPS.get(zone.offence_group)
    label = str(group.label) if group else zone.offence_group
    place = incident.neighbourhood.name if incident.neighbourhood else community.name
    key = f"near-repeat:{zone.incident_id}"
    try:
        link = reverse("notify:alerts", args=[community.slug])
    except NoReverseMatch:
        link = ""
    event = publish_event(
        community,
        Topic.NEAR_REPEAT,
        key=key,
        title=_("Raised risk of %(offence)s near %(place)s until %(day)s")
        % {
            "offence": label.lower(),
            "place": place,
            "day": (zone.ends_on - dt.timedelta(days=1)).isoformat(),
        },
        body=_(
            "A %(offence)s was reported nearby. Nearby homes and vehicles are at raised "
            "risk for a short time afterwards: lock up and report anything suspicious. "
            "The area shown is approximate."
        )
        % {"offence": label.lower()},
        link=link,
        geometry=circle_geometry(zone.public_lat, zone.public_lon, zone.public_radius_m),
        offence_group=zone.offence_group,
        occurred_at=incident.occurred_from,
        payload={
            "starts_on": zone.starts_on.isoformat(),
            "ends_on": zone.ends_on.isoformat(),
            "lat": zone.public_lat,
            "lon": zone.public_lon,
            "radius_m": zone.public_radius_m,
        },
    )
    if event is None:
        return False
    RiskZone.objects.filter(pk=zone.pk).update(alert_key=key)
    return True


@dataclass
class ZoneRow:
    """A zone as one person may see it: ``exact`` rows carry the true centre."""

    zone: RiskZone
    exact: bool
    mine: bool

    @property
    def lat(self) -> float:
        return self.zone.lat if self.exact else self.zone.public_lat

    @property
    def lon(self) -> float:
        return self.zone.lon if self.exact else self.zone.public_lon

    @property
    def radius_m(self) -> float:
        return self.zone.radius_m if self.exact else self.zone.public_radius_m

    @property
    def last_day(self) -> dt.date:
        return self.zone.ends_on - dt.timedelta(days=1)

    def as_dict(self) -> dict[str, Any]:
        """The fields this person may see (no incident link or true point unless exact)."""
        out: dict[str, Any] = {
            "id": self.zone.pk,
            "offence_group": self.zone.offence_group,
            "starts_on": self.zone.starts_on,
            "ends_on": self.zone.ends_on,
            "lat": self.lat,
            "lon": self.lon,
            "radius_m": self.radius_m,
            "exact": self.exact,
            "mine": self.mine,
            "beat": self.zone.beat.name if self.zone.beat else "",
            "neighbourhood": self.zone.neighbourhood.name if self.zone.neighbourhood else "",
            "incident_id": self.zone.incident_id if self.exact else None,
            "run_id": self.zone.run_id,
        }
        return out


def sees_exact(user: Any, community: Community) -> bool:
    """Staff see true zone centres; watch coordinators see the masked circle."""
    if getattr(user, "is_superuser", False):
        return True
    return bool(member_community_ids(user, STAFF_ROLES).filter(community_id=community.pk).exists())


def _my_shapes(user: Any, community: Community) -> tuple[set[int], list[Any]]:
    """The user's beats today (officers) and their watch groups' areas (coordinators)."""
    from beacon.officers.services import active_beat_ids
    from beacon.watch.services import group_broadcast_areas

    beats = {int(b) for b in active_beat_ids(user, community).values_list("beat_id", flat=True)}
    return beats, group_broadcast_areas(user, community)


def zones_for(user: Any, community: Community, as_of: dt.date | None = None) -> list[ZoneRow]:
    """The zones open on ``as_of`` (default: the last day of data) that ``user`` may
    see, theirs first (their beats; their watch groups' areas), newest first after."""
    as_of = as_of or data_end(community)
    rows = (
        RiskZone.objects.visible_to(user)
        .filter(community=community, starts_on__lte=as_of, ends_on__gt=as_of)
        .select_related("beat", "neighbourhood")
        # Area polygons are large; the list needs the names only.
        .defer("beat__geometry", "neighbourhood__geometry")
        .order_by("-starts_on", "-id")
    )
    exact = sees_exact(user, community)
    beats, shapes = _my_shapes(user, community)
    out = []
    for zone in rows:
        mine = zone.beat_id in beats
        if not mine and shapes:
            point = Point(zone.public_lon, zone.public_lat)
            mine = any(shape.covers(point) for shape in shapes)
        out.append(ZoneRow(zone, exact, mine))
    out.sort(key=lambda r: not r.mine)  # stable: keeps newest first within each part
    return out


def risk_window_of(run: AnalysisRun) -> dict[str, Any] | None:
    """The Knox run's risk window (distance and days), if it found one."""
    if run.kind != RunKind.KNOX or run.status != RunStatus.DONE:
        return None
    window = (run.results or {}).get("zone")
    return window if isinstance(window, dict) else None
