"""Near-repeat risk zones: derived from the Knox run, masked for the public and
coordinators, listed beat first for officers, published once to alert subscribers."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo

from django.utils import timezone
from shapely.geometry import Point, shape

from beacon.core.models import AreaKind
from beacon.core.services import area_at
from beacon.core.testing import BeaconTestCase
from beacon.incidents.models import Incident
from beacon.incidents.privacy import public_location, publish_community
from beacon.incidents.testing import make_incident
from beacon.insights import services
from beacon.insights.models import RiskZone, RunKind, RunStatus
from beacon.insights.testing import SEED_DAYS, SEED_END, seed_incidents
from beacon.insights.zones import (
    circle_geometry,
    public_circle,
    refresh_risk_zones,
    zones_for,
)
from beacon.notify.models import AlertEvent, OutboxMessage, Topic
from beacon.notify.services import SubscriptionRequest, subscribe
from beacon.officers.services import assign_beat

START = SEED_END - dt.timedelta(days=SEED_DAYS - 1)


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance, written out here for the test."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


class ZoneTests(BeaconTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        seed_incidents(cls.community)
        publish_community(cls.community)  # the public cells the masking uses

    def knox(self, end: dt.date = SEED_END) -> dict[str, float]:
        with self.captureOnCommitCallbacks(execute=True):
            run = services.create_run(
                self.community,
                RunKind.KNOX,
                offence_groups=["burglary"],
                window_start=START,
                window_end=end,
                parameters={"permutations": 49},
            )
        run.refresh_from_db()
        assert run.status == RunStatus.DONE and run.results["zone"], run.error
        return dict(run.results["zone"])

    def test_zones_cover_the_incidents_within_the_window(self) -> None:
        window = self.knox()
        # The Knox run's task has already refreshed the zones as of the last data day.
        zones = list(RiskZone.objects.filter(community=self.community))
        days = int(window["days"])
        zone_tz = zoneinfo.ZoneInfo(self.community.timezone)
        first = SEED_END - dt.timedelta(days=days - 1)
        expected = Incident.objects.filter(
            community=self.community,
            offence_group="burglary",
            occurred_from__gte=dt.datetime.combine(first, dt.time(), zone_tz),
            occurred_from__lt=dt.datetime.combine(
                SEED_END + dt.timedelta(days=1), dt.time(), zone_tz
            ),
        )
        assert expected.exists()
        assert {z.incident_id for z in zones} == set(expected.values_list("pk", flat=True))
        for z in zones:
            incident = z.incident
            assert incident.lat is not None and incident.lon is not None
            day = incident.occurred_from.astimezone(zone_tz).date()
            assert (z.starts_on, z.ends_on) == (day, day + dt.timedelta(days=days))
            assert z.radius_m == window["distance_m"]
            assert (z.lat, z.lon) == (incident.lat, incident.lon)
            assert z.beat_id == incident.beat_id
            assert z.active_on(SEED_END)
            # The masked circle is centred on the public map's point and holds the zone.
            assert (z.public_lat, z.public_lon) == public_location(
                self.community, incident.lat, incident.lon
            )
            reach = metres(z.public_lat, z.public_lon, z.lat, z.lon) + z.radius_m
            assert reach <= z.public_radius_m
            assert z.public_radius_m % 10 == 0
        # Idempotent: nothing new the second time.
        assert refresh_risk_zones(self.community, SEED_END).created == 0
        assert RiskZone.objects.filter(community=self.community).count() == len(zones)

    def test_no_zone_without_a_near_repeat_pattern(self) -> None:
        assert refresh_risk_zones(self.community, SEED_END).created == 0  # no Knox run yet
        assert not RiskZone.objects.exists()

    def test_officers_see_their_beat_first_and_coordinators_the_masked_circle(self) -> None:
        self.knox()
        east = self.area("East beat")
        assign_beat(east, self.officer, actor=self.supervisor)
        rows = zones_for(self.officer, self.community, SEED_END)
        assert rows and all(r.exact for r in rows)
        flags = [r.mine for r in rows]
        assert flags == sorted(flags, reverse=True), "their beat first"
        assert {r.zone.beat_id for r in rows if r.mine} == {east.pk}
        assert any(not r.mine for r in rows)
        exact = rows[0].as_dict()
        assert exact["incident_id"] == rows[0].zone.incident_id
        assert (exact["lat"], exact["lon"]) == (rows[0].zone.lat, rows[0].zone.lon)

        masked = zones_for(self.watch_coordinator, self.community, SEED_END)
        assert len(masked) == len(rows)
        for row in masked:
            data = row.as_dict()
            assert data["exact"] is False and data["incident_id"] is None
            assert (data["lat"], data["lon"]) == (row.zone.public_lat, row.zone.public_lon)
            assert data["radius_m"] == row.zone.public_radius_m
        assert zones_for(self.resident, self.community, SEED_END) == []
        assert zones_for(self.outsider, self.community, SEED_END) == []

    def test_open_zones_are_published_masked_and_once(self) -> None:
        self.knox()
        # A resident follows the area around a new burglary reported today.
        lat, lon = 49.2725, -123.1195
        now = timezone.now()
        subscribe(
            self.community,
            self.resident,
            SubscriptionRequest(
                area_kind="radius",
                topics=[Topic.NEAR_REPEAT],
                target="resident@north.test",
                lat=lat,
                lon=lon,
                radius_m=800,
            ),
        )
        incident = make_incident(
            self.community,
            lat=lat,
            lon=lon,
            when=now - dt.timedelta(hours=2),
            offence="burglary_residential",
            beat=area_at(self.community, AreaKind.BEAT, lat, lon),
        )
        today = services.local_today(self.community)
        with self.captureOnCommitCallbacks(execute=True):
            result = refresh_risk_zones(self.community, today)
        assert result.created == 1 and result.published == 1
        zone = RiskZone.objects.get(incident=incident)
        event = AlertEvent.objects.get(community=self.community, key=zone.alert_key)
        assert event.topic == Topic.NEAR_REPEAT and event.public
        assert zone.alert_key == f"near-repeat:{incident.pk}"
        # Only the masked circle goes out: it holds the true point but is centred elsewhere.
        circle = shape(event.geometry)
        assert circle.covers(Point(lon, lat))
        assert event.payload["lat"] == zone.public_lat and event.payload["lon"] == zone.public_lon
        assert (event.payload["lat"], event.payload["lon"]) != (lat, lon)
        assert str(lat) not in str(event.geometry) and "block" not in event.title.lower()
        assert OutboxMessage.objects.filter(event=event, target="resident@north.test").count() == 1
        # A second refresh publishes nothing more.
        with self.captureOnCommitCallbacks(execute=True):
            again = refresh_risk_zones(self.community, today)
        assert again.created == 0 and again.published == 0
        assert AlertEvent.objects.filter(topic=Topic.NEAR_REPEAT).count() == 1

    def test_closed_zones_are_not_published(self) -> None:
        self.knox()
        assert not AlertEvent.objects.filter(topic=Topic.NEAR_REPEAT).exists()
        assert RiskZone.objects.exists()
        assert not RiskZone.objects.exclude(alert_key="").exists()

    def test_circle_geometry_contains_the_circle(self) -> None:
        lat, lon, radius = 49.27, -123.12, 250.0
        ring = circle_geometry(lat, lon, radius)["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) == 33
        for a, b in ring:
            assert metres(lat, lon, b, a) >= radius * 0.999
        c_lat, c_lon, c_radius = public_circle(self.community, lat, lon, radius)
        assert metres(c_lat, c_lon, lat, lon) + radius <= c_radius
