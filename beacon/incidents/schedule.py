"""Periodic job of the incidents app: publish what has come of age, then alert on it.

Publication normally runs after each import and edit. Between those, time alone makes
incidents public: a month ends and its publication delay passes, or a late report
reaches the delay. This job notices that
(:func:`~beacon.incidents.privacy.publication_due`) and republishes, which in turn has
the alerts for the newly public incidents sent. Otherwise it only re-runs the alerts,
so an alert run that failed is caught up. Both steps are idempotent and run in the
worker.
"""

from __future__ import annotations

from datetime import timedelta

from beacon.core.jobs import enqueue_on_commit
from beacon.core.models import Community
from beacon.core.schedule import periodic
from beacon.incidents.models import PublicationPolicy
from beacon.incidents.privacy import publication_due
from beacon.incidents.tasks import alert_public_incidents, publish_incidents


def publish_and_alert() -> dict[str, int]:
    """Queue a publication where one is due, and an alert run everywhere else."""
    queued = {"publications": 0, "alert_runs": 0}
    published = PublicationPolicy.objects.filter(published_at__isnull=False).values_list(
        "community_id", flat=True
    )
    for community in Community.objects.filter(pk__in=list(published)).order_by("pk"):
        if publication_due(community):
            # The publication queues the alert run itself once it has committed.
            enqueue_on_commit(publish_incidents, community.pk)
            queued["publications"] += 1
        else:
            enqueue_on_commit(alert_public_incidents, community.pk)
            queued["alert_runs"] += 1
    return queued


@periodic("incidents.publication-and-alerts", every=timedelta(hours=1))
def hourly_publication() -> None:
    """Republish communities whose publication delay has passed for more incidents."""
    publish_and_alert()
