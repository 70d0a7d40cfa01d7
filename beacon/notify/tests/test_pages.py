"""Alert pages and API: subscribing with clear errors, one-click unsubscribe, Atom feeds,
broadcast previews, and report updates reaching the reporter's subscriptions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from django.core import mail
from django.test import override_settings
from django.urls import reverse

from beacon.core.testing import BeaconTestCase, box_polygon
from beacon.notify import messages, services
from beacon.notify.models import CoverKind, OutboxMessage, Subscription, Topic
from beacon.notify.tests.receiver import start_receiver
from beacon.notify.tests.test_alerts import HOME

ATOM = "{http://www.w3.org/2005/Atom}"


class SubscribePageTests(BeaconTestCase):
    def post(self, **fields: object) -> Any:
        data: dict[str, Any] = {
            "area_kind": "radius",
            "lat": HOME[0],
            "lon": HOME[1],
            "radius_m": 500,
            "topics": ["incident"],
            "offence_groups": ["burglary"],
            "frequency": "immediate",
            "channel": "email",
            "target": "",
        }
        data.update(fields)
        return self.client.post(reverse("notify:alerts", args=[self.community.slug]), data)

    def test_subscribe_and_see_clear_errors(self) -> None:
        self.login(self.resident)
        response = self.post(radius_m=0)
        self.assertContains(response, "The radius must be more than 0 m", status_code=400)
        response = self.post(radius_m=100000)
        self.assertContains(response, "is too large", status_code=400)
        response = self.post(
            area_kind="polygon",
            geometry='{"type": "Polygon", "coordinates": [[[-123.3,49.1],[-123.29,49.1],'
            "[-123.29,49.11],[-123.3,49.1]]]}",
        )
        self.assertContains(response, "outside the community boundary", status_code=400)
        response = self.post(channel="webhook", target="http://127.0.0.1:9/hook")
        self.assertContains(response, "loopback address", status_code=400)
        self.assertFalse(Subscription.objects.exists())
        response = self.post()
        self.assertRedirects(response, reverse("notify:alerts", args=[self.community.slug]))
        page = self.client.get(reverse("notify:alerts", args=[self.community.slug]))
        self.assertContains(page, "500 m around")
        self.assertNotContains(page, "<script>")
        self.assertNotContains(page, "style=")

    def test_outsiders_get_404_and_the_public_is_asked_to_sign_in(self) -> None:
        url = reverse("notify:alerts", args=[self.community.slug])
        self.assertContains(self.client.get(url), "Sign in to follow an area")
        self.login(self.outsider)
        self.assertEqual(self.client.post(url, {}).status_code, 404)

    @override_settings(BEACON_WEBHOOK_ALLOW_PRIVATE=True)
    def test_api_subscribes_a_webhook_and_returns_the_secret_once(self) -> None:
        receiver = start_receiver()
        self.addCleanup(receiver.close)
        self.login(self.partner)
        url = f"/api/v1/communities/{self.community.slug}/subscriptions"
        body = {
            "area_kind": "neighbourhood",
            "area_id": self.area("Northside").pk,
            "topics": ["broadcast"],
            "channel": "webhook",
            "target": receiver.url,
        }
        response = self.client.post(url, body, content_type="application/json")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertTrue(response.json()["secret"])
        listed = self.client.get(url).json()
        self.assertIsNone(listed[0]["secret"])
        bad = self.client.post(
            url,
            {**body, "area_kind": "radius", "radius_m": 0, "lat": HOME[0], "lon": HOME[1]},
            content_type="application/json",
        )
        self.assertEqual(bad.status_code, 400)
        self.assertIn("radius_m", bad.json()["errors"])


class UnsubscribeTests(BeaconTestCase):
    def test_one_click_unsubscribe(self) -> None:
        subscription = services.subscribe(
            self.community,
            self.resident,
            services.SubscriptionRequest(
                area_kind=CoverKind.RADIUS,
                topics=[Topic.BROADCAST],
                lat=HOME[0],
                lon=HOME[1],
                radius_m=300,
            ),
        ).subscription
        url = messages.unsubscribe_url(subscription)
        path = url.split("8000", 1)[1] if "8000" in url else url
        page = self.client.get(path)
        self.assertContains(page, "Stop these alerts?")
        subscription.refresh_from_db()
        self.assertTrue(subscription.active)  # a link scanner's GET changes nothing
        response = self.client.post(
            path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        self.assertContains(response, "You are unsubscribed")
        subscription.refresh_from_db()
        self.assertFalse(subscription.active)
        tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
        self.assertEqual(self.client.get(tampered).status_code, 404)


class FeedAndBroadcastTests(BeaconTestCase):
    def test_atom_feeds_are_valid_and_per_area(self) -> None:
        services.publish_event(
            self.community, Topic.BROADCAST, key="b1", title="Road closed", lat=49.275, lon=-123.13
        )
        services.publish_event(
            self.community, Topic.EVENT, key="e1", title="Safety fair", lat=49.265, lon=-123.13
        )
        services.publish_event(
            self.community,
            Topic.REPORT_UPDATE,
            key="private",
            title="Private",
            lat=49.275,
            lon=-123.13,
            public=False,
        )
        for url, titles in (
            (reverse("notify:feed", args=[self.community.slug]), {"Road closed", "Safety fair"}),
            (
                reverse("notify:area_feed", args=[self.community.slug, self.area("Northside").pk]),
                {"Road closed"},
            ),
        ):
            response = self.client.get(url)
            self.assertEqual(response["Content-Type"], "application/atom+xml; charset=utf-8")
            root = ET.fromstring(response.content)  # noqa: S314 (our own response)
            self.assertEqual(root.tag, f"{ATOM}feed")
            for required in ("id", "title", "updated"):
                self.assertIsNotNone(root.find(f"{ATOM}{required}"), required)
            entries = root.findall(f"{ATOM}entry")
            self.assertEqual({e.findtext(f"{ATOM}title") for e in entries}, titles)
            for entry in entries:
                for required in ("id", "title", "updated"):
                    self.assertTrue(entry.findtext(f"{ATOM}{required}"), required)

    def test_broadcast_page_previews_and_sends(self) -> None:
        from datetime import timedelta

        from django.utils import timezone

        from beacon.officers.services import assign_beat

        assign_beat(
            self.area("West beat"),
            self.officer,
            actor=self.supervisor,
            started_on=timezone.localdate() - timedelta(days=1),
        )
        for user in (self.resident, self.partner):
            services.subscribe(
                self.community,
                user,
                services.SubscriptionRequest(
                    area_kind=CoverKind.RADIUS,
                    topics=[Topic.BROADCAST],
                    lat=49.27,
                    lon=-123.135,
                    radius_m=400,
                ),
            )
        area = box_polygon(-123.138, 49.266, -123.13, 49.274)
        import json

        self.login(self.resident)
        url = reverse("notify:broadcast", args=[self.community.slug])
        self.assertEqual(self.client.get(url).status_code, 403)
        self.login(self.officer)
        self.assertContains(self.client.get(url), "Broadcast to an area")
        preview = self.client.post(
            reverse("notify:broadcast_preview", args=[self.community.slug]),
            {"geometry": json.dumps(area)},
        )
        self.assertContains(preview, "will reach 2 people")
        east = box_polygon(-123.12, 49.266, -123.112, 49.274)
        preview = self.client.post(
            reverse("notify:broadcast_preview", args=[self.community.slug]),
            {"geometry": json.dumps(east)},
        )
        self.assertContains(preview, "inside your beats", status_code=400)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                url, {"geometry": json.dumps(area), "title": "Lane closed", "body": "Until 6 pm"}
            )
        self.assertRedirects(response, url)
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox), sorted([self.resident.email, self.partner.email])
        )


class ReportUpdateTests(BeaconTestCase):
    @override_settings(BEACON_WEBHOOK_ALLOW_PRIVATE=True)
    def test_public_update_reaches_the_reporters_webhook(self) -> None:
        from beacon.reports import services as reports
        from beacon.reports.testing import make_categories

        receiver = start_receiver()
        self.addCleanup(receiver.close)
        make_categories(self.community)
        services.subscribe(
            self.community,
            self.resident,
            services.SubscriptionRequest(
                area_kind=CoverKind.NEIGHBOURHOOD,
                area_id=self.area("Northside").pk,
                topics=[Topic.REPORT_UPDATE],
                channel="webhook",
                target=receiver.url,
            ),
        )
        filed = reports.file_report(
            self.community,
            reports.Submission(
                category="graffiti",
                description="Tag on the wall",
                lat=49.275,
                lon=-123.13,
                answers={"surface": "wall"},
                reporter=self.resident,
            ),
        )
        with self.captureOnCommitCallbacks(execute=True):
            reports.add_update(
                filed.report, "Cleaning booked for Monday", actor=self.officer, visibility="public"
            )
            reports.add_update(
                filed.report, "Internal note", actor=self.officer, visibility="internal"
            )
        self.assertEqual(OutboxMessage.objects.filter(channel="webhook").count(), 1)
        self.assertEqual(len(receiver.requests), 2)  # the ping and the update
        self.assertIn(b"Cleaning booked for Monday", receiver.requests[1].body)
