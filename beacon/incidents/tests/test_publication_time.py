"""When incidents become public: one rule for the map, the statistics and the alerts."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

from beacon.core.schedule import registered_jobs
from beacon.core.testing import BeaconTestCase
from beacon.incidents.models import Incident
from beacon.incidents.privacy import (
    policy_for,
    public_since,
    publication_due,
    publication_filter,
    publish_community,
)
from beacon.incidents.testing import make_incident

ZONE = zoneinfo.ZoneInfo("America/Vancouver")
SECOND = dt.timedelta(seconds=1)


class PublicationTimeTests(BeaconTestCase):
    def is_public(self, incident: Incident, as_of: dt.datetime) -> bool:
        policy = policy_for(self.community)
        return (
            Incident.objects.filter(pk=incident.pk)
            .filter(publication_filter(policy, ZONE, as_of))
            .exists()
        )

    def test_public_since_is_the_first_instant_the_publication_includes(self) -> None:
        rng = random.Random(11)
        policy = policy_for(self.community)
        for case in range(40):
            policy.delay_days = rng.choice([0, 1, 7, 30])
            policy.save()
            when = dt.datetime(
                2024, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), tzinfo=ZONE
            )
            reported = None
            if rng.random() < 0.5:
                reported = when + dt.timedelta(hours=rng.randint(0, 24 * 70))
            incident = make_incident(
                self.community,
                when=when,
                time_known=rng.random() < 0.5,
                reported_at=reported,
            )
            since = public_since(incident, policy, ZONE)
            assert self.is_public(incident, since), case
            assert not self.is_public(incident, since - SECOND), case

    def test_a_month_ending_or_a_late_report_makes_a_publication_due(self) -> None:
        published = dt.datetime(2024, 5, 20, 12, tzinfo=dt.UTC)  # publishes through April
        make_incident(self.community, when=dt.datetime(2024, 4, 10, 14, tzinfo=ZONE))
        late = make_incident(
            self.community,
            when=dt.datetime(2024, 3, 10, 14, tzinfo=ZONE),
            reported_at=published - dt.timedelta(days=6),  # one day short of the delay
        )
        publish_community(self.community, now=published)
        assert not publication_due(self.community, published)
        assert not self.is_public(late, published)
        # A day later the late report is a week old: the same months, one more incident.
        assert publication_due(self.community, published + dt.timedelta(days=1, hours=1))
        publish_community(self.community, now=published + dt.timedelta(days=1, hours=1))
        assert not publication_due(self.community, published + dt.timedelta(days=2))
        # May ends; a week into June it is published.
        assert publication_due(self.community, dt.datetime(2024, 6, 8, 12, tzinfo=dt.UTC))

    def test_the_periodic_job_is_registered(self) -> None:
        names = {job.name: job for job in registered_jobs()}
        job = names["incidents.publication-and-alerts"]
        assert job.every == dt.timedelta(hours=1)
