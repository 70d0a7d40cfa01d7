"""Subscribing, matching, publishing and the outbox, through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import mail
from django.test import override_settings
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from beacon.core.testing import BeaconTestCase, box_polygon
from beacon.notify import covers, digests, outbox, services
from beacon.notify.covers import distance_m
from beacon.notify.models import (
    AlertEvent,
    Channel,
    CoverKind,
    DigestItem,
    Frequency,
    OutboxMessage,
    Status,
    Subscription,
    Topic,
)

HOME = (49.2700, -123.1250)  # inside "north"


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point ``north_m`` north and ``east_m`` east of (lat, lon)."""
    import math

    dlat = north_m / 111_195
    dlon = east_m / (111_195 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


class AlertsTestCase(BeaconTestCase):
    def radius_request(self, radius: Any = 500, **extra: Any) -> services.SubscriptionRequest:
        fields: dict[str, Any] = {
            "area_kind": CoverKind.RADIUS,
            "topics": [Topic.INCIDENT],
            "offence_groups": ["burglary"],
            "lat": HOME[0],
            "lon": HOME[1],
            "radius_m": radius,
        }
        fields.update(extra)
        return services.SubscriptionRequest(**fields)

    def burglary(self, point: tuple[float, float], key: str, group: str = "burglary") -> Any:
        with self.captureOnCommitCallbacks(execute=True):
            return services.publish_event(
                self.community,
                Topic.INCIDENT,
                key=key,
                title="Burglary reported nearby",
                lat=point[0],
                lon=point[1],
                offence_group=group,
            )


class SubscriptionValidationTests(AlertsTestCase):
    def test_radius_of_zero_is_refused_clearly(self) -> None:
        with self.assertRaises(services.AlertError) as caught:
            services.subscribe(self.community, self.resident, self.radius_request(0))
        self.assertIn("radius_m", caught.exception.errors)
        self.assertIn("more than 0 m", str(caught.exception))
        self.assertFalse(Subscription.objects.exists())

    def test_radius_of_100_km_is_refused_clearly(self) -> None:
        with self.assertRaises(services.AlertError) as caught:
            services.subscribe(self.community, self.resident, self.radius_request(100_000))
        self.assertIn("100,000 m is too large", str(caught.exception))
        self.assertIn("5 km", str(caught.exception))

    def test_point_outside_the_community_is_refused(self) -> None:
        request = self.radius_request(lat=49.0, lon=-122.0)
        with self.assertRaises(services.AlertError) as caught:
            services.subscribe(self.community, self.resident, request)
        self.assertIn("outside North", str(caught.exception))

    def test_drawn_area_outside_the_community_is_refused(self) -> None:
        request = services.SubscriptionRequest(
            area_kind=CoverKind.POLYGON,
            topics=[Topic.BROADCAST],
            geometry=box_polygon(-123.20, 49.10, -123.18, 49.12),
        )
        with self.assertRaises(services.AlertError) as caught:
            services.subscribe(self.community, self.resident, request)
        self.assertIn("outside the community boundary", str(caught.exception))

    def test_sms_without_a_provider_says_so(self) -> None:
        with self.assertRaises(services.AlertError) as caught:
            services.subscribe(
                self.community,
                self.resident,
                self.radius_request(channel=Channel.SMS, target="+16045550100"),
            )
        self.assertIn("no SMS provider is configured", str(caught.exception))

    def test_sensitive_offence_groups_cannot_be_chosen(self) -> None:
        with self.assertRaises(services.AlertError) as caught:
            services.subscribe(
                self.community, self.resident, self.radius_request(offence_groups=["sexual"])
            )
        self.assertIn("never sent for sensitive offences", str(caught.exception))

    def test_email_defaults_to_the_account_address(self) -> None:
        subscribed = services.subscribe(self.community, self.resident, self.radius_request())
        self.assertEqual(subscribed.subscription.target, self.resident.email)
        self.assertEqual(subscribed.subscription.topic_list, [Topic.INCIDENT])


class MatchingTests(AlertsTestCase):
    def test_burglary_inside_the_radius_sends_exactly_one_email(self) -> None:
        services.subscribe(self.community, self.resident, self.radius_request(500))
        near = offset(*HOME, 300, 200)
        far = offset(*HOME, 700, 0)
        self.burglary(near, "incident:1")
        self.assertEqual(len(mail.outbox), 1)
        email = mail.outbox[0]
        self.assertEqual(email.to, [self.resident.email])
        self.assertIn("Burglary reported nearby", email.subject)
        self.assertIn("List-Unsubscribe", email.extra_headers)
        self.assertEqual(email.extra_headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")
        self.burglary(far, "incident:2")
        self.assertEqual(len(mail.outbox), 1)
        message = OutboxMessage.objects.get()
        self.assertEqual(message.status, Status.DELIVERED)

    def test_publishing_twice_and_overlapping_subscriptions_send_once(self) -> None:
        services.subscribe(self.community, self.resident, self.radius_request(500))
        services.subscribe(self.community, self.resident, self.radius_request(1000))
        northside = self.area("Northside")
        services.subscribe(
            self.community,
            self.resident,
            services.SubscriptionRequest(
                area_kind=CoverKind.NEIGHBOURHOOD, topics=[Topic.INCIDENT], area_id=northside.pk
            ),
        )
        point = offset(*HOME, 100, 100)
        first = self.burglary(point, "incident:9")
        again = self.burglary(point, "incident:9")
        self.assertEqual(first.pk, again.pk)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(OutboxMessage.objects.count(), 1)
        self.assertEqual(AlertEvent.objects.get().recipients, 1)

    def test_offence_group_filter_and_sensitive_groups(self) -> None:
        services.subscribe(self.community, self.resident, self.radius_request(500))
        services.subscribe(
            self.community, self.watch_coordinator, self.radius_request(500, offence_groups=[])
        )
        point = offset(*HOME, 50, 0)
        self.burglary(point, "incident:theft", group="theft")
        self.assertEqual([m.to for m in mail.outbox], [[self.watch_coordinator.email]])
        self.assertIsNone(self.burglary(point, "incident:s", group="sexual"))
        self.assertEqual(len(mail.outbox), 1)
        self.assertFalse(AlertEvent.objects.filter(key="incident:s").exists())

    def test_old_incidents_do_not_alert(self) -> None:
        services.subscribe(self.community, self.resident, self.radius_request(500))
        with self.captureOnCommitCallbacks(execute=True):
            event = services.publish_event(
                self.community,
                Topic.INCIDENT,
                key="incident:old",
                title="Old burglary",
                lat=HOME[0],
                lon=HOME[1],
                offence_group="burglary",
                occurred_at=timezone.now() - timedelta(days=60),
            )
        self.assertIsNone(event)
        self.assertEqual(len(mail.outbox), 0)

    def test_unsubscribed_people_hear_nothing(self) -> None:
        subscription = services.subscribe(
            self.community, self.resident, self.radius_request(500)
        ).subscription
        services.unsubscribe(subscription, actor=self.resident)
        self.burglary(HOME, "incident:u")
        self.assertEqual(len(mail.outbox), 0)

    def test_neighbourhood_cover_is_compacted(self) -> None:
        cover = covers.cover_for_area(self.area("Northside"))
        rows = cover.cells.count()
        from beacon.core.models import AreaCell

        self.assertLess(rows, AreaCell.objects.filter(area=self.area("Northside")).count())

    @settings(max_examples=60, deadline=None)
    @given(
        north=st.floats(min_value=-900, max_value=900),
        east=st.floats(min_value=-900, max_value=900),
    )
    def test_radius_match_equals_exact_distance(self, north: float, east: float) -> None:
        cover = covers.cover_for_radius(self.community, HOME[0], HOME[1], 500)
        Subscription.objects.get_or_create(
            community=self.community,
            cover=cover,
            defaults={"topics": 1, "channel": Channel.EMAIL, "target": "p@example.org"},
        )
        lat, lon = offset(*HOME, north, east)
        matched = covers.match_point(self.community.pk, Topic.INCIDENT, lat, lon)
        self.assertEqual(bool(matched), distance_m(HOME[0], HOME[1], lat, lon) <= 500)

    @settings(max_examples=60, deadline=None)
    @given(
        lat=st.floats(min_value=49.262, max_value=49.278),
        lon=st.floats(min_value=-123.138, max_value=-123.112),
    )
    def test_polygon_match_equals_point_in_polygon(self, lat: float, lon: float) -> None:
        from shapely.geometry import Point, shape

        geometry = {
            "type": "Polygon",
            "coordinates": [
                [
                    [-123.135, 49.265],
                    [-123.118, 49.266],
                    [-123.125, 49.276],
                    [-123.135, 49.265],
                ]
            ],
        }
        cover = covers.cover_for_polygon(self.community, shape(geometry))
        Subscription.objects.get_or_create(
            community=self.community,
            cover=cover,
            defaults={"topics": 1, "channel": Channel.EMAIL, "target": "p@example.org"},
        )
        matched = covers.match_point(self.community.pk, Topic.INCIDENT, lat, lon)
        self.assertEqual(bool(matched), shape(geometry).covers(Point(lon, lat)))


class DigestTests(AlertsTestCase):
    def test_daily_digest_is_one_message_per_period(self) -> None:
        services.subscribe(
            self.community, self.resident, self.radius_request(500, frequency=Frequency.DAILY)
        )
        self.burglary(HOME, "incident:d1")
        self.burglary(offset(*HOME, 100, 0), "incident:d2")
        self.assertEqual(len(mail.outbox), 0)
        self.assertEqual(DigestItem.objects.count(), 2)
        self.assertEqual(digests.build_digests(), 0)  # the day is not over yet
        tomorrow = timezone.now() + timedelta(days=1)
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(digests.build_digests(tomorrow), 1)
        self.assertEqual(digests.build_digests(tomorrow), 0)
        outbox.deliver_due()
        self.assertEqual(len(mail.outbox), 1)
        self.assertIn("2 alerts", mail.outbox[0].subject)


class OutboxTests(AlertsTestCase):
    def test_failures_back_off_then_fail(self) -> None:
        from unittest import mock

        from beacon.notify import channels

        services.subscribe(self.community, self.resident, self.radius_request(500))
        broken = mock.Mock(side_effect=channels.DeliveryError("server down"))
        with (
            override_settings(BEACON_OUTBOX_MAX_ATTEMPTS=2, BEACON_OUTBOX_BACKOFF=60),
            mock.patch.dict(channels.SENDERS, {"email": broken}),
        ):
            self.burglary(HOME, "incident:f")
            message = OutboxMessage.objects.get()
            self.assertEqual(message.status, Status.PENDING)
            self.assertEqual(message.attempts, 1)
            self.assertIn("server down", message.last_error)
            self.assertGreater(message.next_attempt_at, timezone.now() + timedelta(seconds=50))
            self.assertEqual(outbox.deliver_due().claimed, 0)  # not due yet
            OutboxMessage.objects.update(next_attempt_at=timezone.now())
            outbox.deliver_due()
        message.refresh_from_db()
        self.assertEqual(message.status, Status.FAILED)
        self.assertEqual(message.attempts, 2)

    def test_backoff_doubles_and_is_capped(self) -> None:
        with override_settings(BEACON_OUTBOX_BACKOFF=30):
            self.assertEqual(outbox.backoff(1), timedelta(seconds=30))
            self.assertEqual(outbox.backoff(3), timedelta(seconds=120))
            self.assertEqual(outbox.backoff(30), outbox.BACKOFF_CAP)

    def test_an_expired_lease_is_claimed_again(self) -> None:
        services.subscribe(self.community, self.resident, self.radius_request(500))
        with self.captureOnCommitCallbacks(execute=False):
            services.publish_event(
                self.community,
                Topic.INCIDENT,
                key="incident:l",
                title="t",
                lat=HOME[0],
                lon=HOME[1],
                offence_group="burglary",
            )
        claimed = outbox.claim()
        self.assertEqual(len(claimed), 1)
        self.assertEqual(outbox.claim(), [])  # leased: nobody else takes it
        later = timezone.now() + timedelta(hours=1)
        again = outbox.claim(now=later)
        self.assertEqual([m.pk for m in again], [claimed[0].pk])
        self.assertEqual(again[0].message_id, claimed[0].message_id)
