"""The demo journey's alert: a burglary imported near a subscriber's address sends exactly
one email once it is public (its publication delay has passed), one outside the radius
none; only the masked location ever leaves."""

from __future__ import annotations

import random
import tempfile
from datetime import timedelta
from pathlib import Path

from django.core import mail
from django.utils import timezone

from beacon.core.testing import BeaconTestCase
from beacon.incidents.importer import ImportOptions, import_incidents
from beacon.incidents.privacy import policy_for, publication_due, publish_community
from beacon.incidents.schedule import publish_and_alert
from beacon.incidents.testing import make_incident
from beacon.notify import services
from beacon.notify.covers import distance_m
from beacon.notify.incidents import alert_public_incidents
from beacon.notify.models import AlertEvent, CoverKind, Topic
from beacon.notify.tests.test_alerts import HOME, offset

HEADER = "id,occurred_at,category,lat,lon,block\n"
NEAR = offset(*HOME, 200, 100)
FAR = offset(*HOME, -2000, 1200)


class IncidentAlertTests(BeaconTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.folder = Path(tempfile.mkdtemp())

    def run_import(self, rows: list[str], name: str, publish: bool = False) -> None:
        path = self.folder / name
        path.write_text(HEADER + "".join(rows), encoding="utf-8")
        with self.captureOnCommitCallbacks(execute=True):
            import_incidents(
                self.community,
                path,
                ImportOptions(fmt="beacon"),
                actor=self.analyst,
                publish=publish,
            )

    def publish_after_delay(self) -> None:
        """Publish as the periodic job will once this month and its delay have passed."""
        today = timezone.now()
        next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        with self.captureOnCommitCallbacks(execute=True):
            publish_community(self.community, now=next_month + timedelta(days=8))

    def history(self) -> list[str]:
        """Two years ago: many sites round both points, so masking stays fine-grained."""
        rng = random.Random(3)
        when = (timezone.now() - timedelta(days=730)).strftime("%Y-%m-%dT%H:%M:%S")
        rows = []
        for n, (lat, lon) in enumerate([NEAR] * 30 + [FAR] * 30):
            jitter = offset(lat, lon, rng.uniform(-25, 25), rng.uniform(-25, 25))
            rows.append(f"h{n},{when},Theft,{jitter[0]:.6f},{jitter[1]:.6f},\n")
        return rows

    def test_nearby_burglary_sends_exactly_one_email_and_a_far_one_none(self) -> None:
        services.subscribe(
            self.community,
            self.resident,
            services.SubscriptionRequest(
                area_kind=CoverKind.RADIUS,
                topics=[Topic.INCIDENT],
                offence_groups=["burglary"],
                lat=HOME[0],
                lon=HOME[1],
                radius_m=500,
            ),
        )
        self.run_import(self.history(), "history.csv", publish=True)
        self.assertEqual(len(mail.outbox), 0)  # history never alerts
        now = timezone.now().strftime("%Y-%m-%dT%H:%M:%S")
        self.run_import(
            [
                f"n1,{now},Burglary,{NEAR[0]:.6f},{NEAR[1]:.6f},21XX W 4TH AVE\n",
                f"n2,{now},Burglary,{FAR[0]:.6f},{FAR[1]:.6f},45XX OAK ST\n",
                f"n3,{now},Sexual Assault,{NEAR[0]:.6f},{NEAR[1]:.6f},\n",
            ],
            "today.csv",
        )
        self.assertEqual(len(mail.outbox), 0)  # not public yet: the delay has not passed
        self.publish_after_delay()
        self.assertEqual(len(mail.outbox), 1)
        email = mail.outbox[0]
        self.assertEqual(email.to, [self.resident.email])
        self.assertIn("Burglary", email.subject)
        self.assertNotIn("21XX", email.body)  # no block address
        self.assertNotIn(f"{NEAR[0]:.6f}", email.body)  # no true location
        events = {e.key: e for e in AlertEvent.objects.all()}
        self.assertEqual(len(events), 2)  # the sexual assault published nothing
        near = next(e for e in events.values() if e.recipients)
        assert near.lat is not None and near.lon is not None
        self.assertGreater(distance_m(near.lat, near.lon, *NEAR), 1)  # masked, not the pin
        # The same file again: nothing new is imported, nobody is told twice.
        self.run_import(
            [f"n1,{now},Burglary,{NEAR[0]:.6f},{NEAR[1]:.6f},21XX W 4TH AVE\n"], "again.csv"
        )
        self.publish_after_delay()
        self.assertEqual(len(mail.outbox), 1)


class PublicationDelayAlertTests(BeaconTestCase):
    """Public incident alerts follow the public map's rules: delay, sensitivity, masking."""

    def test_alerts_wait_for_the_delay_then_go_out_once(self) -> None:
        services.subscribe(
            self.community,
            self.resident,
            services.SubscriptionRequest(
                area_kind=CoverKind.RADIUS,
                topics=[Topic.INCIDENT],
                lat=HOME[0],
                lon=HOME[1],
                radius_m=1000,
            ),
        )
        policy = policy_for(self.community)
        policy.extra_sensitive_groups = ["robbery"]
        policy.save()
        now = timezone.now()
        rng = random.Random(5)
        for _ in range(30):  # history: enough sites round the point for fine masking
            lat, lon = offset(*NEAR, rng.uniform(-25, 25), rng.uniform(-25, 25))
            make_incident(self.community, lat=lat, lon=lon, when=now - timedelta(days=730))
        theft = make_incident(self.community, lat=NEAR[0], lon=NEAR[1], when=now)
        robbery = make_incident(
            self.community, lat=NEAR[0], lon=NEAR[1], when=now, offence="robbery"
        )
        make_incident(self.community, lat=None, lon=None, when=now, offence="damage")
        with self.captureOnCommitCallbacks(execute=True):
            publish_community(self.community)
            publish_and_alert()  # the periodic job: nothing has come of age yet
        self.assertEqual(len(mail.outbox), 0)
        self.assertFalse(AlertEvent.objects.exists())

        next_month = (now.replace(day=1) + timedelta(days=32)).replace(day=1)
        later = next_month + timedelta(days=8)
        self.assertTrue(publication_due(self.community, later))
        with self.captureOnCommitCallbacks(execute=True):
            publish_community(self.community, now=later)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(
            set(AlertEvent.objects.values_list("key", flat=True)), {f"incident:{theft.pk}"}
        )
        event = AlertEvent.objects.get()
        assert event.lat is not None and event.lon is not None
        self.assertGreater(distance_m(event.lat, event.lon, *NEAR), 1)  # the masked point
        self.assertNotIn(f"incident:{robbery.pk}", mail.outbox[0].body)

        # Again, by the job or another publication: each incident alerts once.
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(alert_public_incidents(self.community), 0)
            publish_and_alert()
            publish_community(self.community, now=later + timedelta(hours=1))
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(AlertEvent.objects.count(), 1)
