"""Public alerts for official incidents, under the same rules as the public crime map.

An incident alerts only once it is *public*: when the publication that builds the map,
statistics and downloads includes it (:func:`beacon.incidents.privacy.publication_filter`:
its community's publication delay has passed, it is not unfounded). Publication runs
after imports and edits, and the incidents app's periodic job republishes when a delay
passes, then has :func:`alert_public_incidents` run; so new incidents alert when their
delay has just passed, not when they are imported.

An alert carries the masked public location (the centre of the smallest H3 cell holding
at least k distinct incident sites, :func:`beacon.incidents.privacy.public_location`),
the offence group and the neighbourhood name — never the true point or the block
address. Matching uses the masked point too, so even a small radius learns nothing the
public map would not show. Sensitive incidents and offence groups (built in, and the
community's own) never alert; incidents that became public more than
``BEACON_INCIDENT_ALERT_MAX_AGE_DAYS`` ago (history being loaded) never alert. Each
incident alerts at most once: its event is keyed by its id.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from datetime import timedelta

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from beacon.core.models import Community
from beacon.notify import conf
from beacon.notify.models import AlertEvent, Topic
from beacon.notify.services import publish_event

KEY_PREFIX = "incident:"


def _map_link(community: Community) -> str:
    try:
        return reverse("notify:alerts", args=[community.slug])
    except NoReverseMatch:
        return ""


def alert_public_incidents(community: Community, now: dt.datetime | None = None) -> int:
    """Publish an alert for each incident that became public recently and has none yet.

    "Public" is as of the community's last publication; "recently" is within
    ``BEACON_INCIDENT_ALERT_MAX_AGE_DAYS`` before ``now``. Idempotent: an incident's
    alert is keyed by its id, so running again (after a crash, a re-import or a
    republication) alerts nobody twice. Returns the alerts published.
    """
    from beacon.incidents.models import Incident
    from beacon.incidents.privacy import (
        policy_for,
        public_location,
        public_since,
        publication_filter,
    )
    from beacon.incidents.taxonomy import GROUPS

    now = now or timezone.now()
    policy = policy_for(community)
    if policy.published_at is None:
        return 0
    zone = zoneinfo.ZoneInfo(community.timezone)
    window_start = now - timedelta(days=conf.incident_alert_max_age_days())
    alerted = AlertEvent.objects.filter(
        community=community,
        key=Concat(Value(KEY_PREFIX), Cast(OuterRef("pk"), output_field=CharField())),
    )
    rows = (
        Incident.objects.filter(community=community, sensitive=False)
        .filter(publication_filter(policy, zone, policy.published_at))
        # Public before the window opened: history, not news.
        .exclude(publication_filter(policy, zone, window_start))
        .exclude(offence_group__in=policy.sensitive_groups)
        .filter(lat__isnull=False, lon__isnull=False)
        .exclude(Exists(alerted))
        .select_related("neighbourhood")
        .order_by("pk")
    )
    published = 0
    link = _map_link(community)
    for incident in rows.iterator(chunk_size=500):
        assert incident.lat is not None and incident.lon is not None
        lat, lon = public_location(community, incident.lat, incident.lon)
        group = GROUPS.get(incident.offence_group)
        label = str(group.label) if group else incident.offence_group
        place = incident.neighbourhood_name or (
            incident.neighbourhood.name if incident.neighbourhood else community.name
        )
        with transaction.atomic():
            event = publish_event(
                community,
                Topic.INCIDENT,
                key=f"{KEY_PREFIX}{incident.pk}",
                title=_("%(offence)s reported in %(place)s") % {"offence": label, "place": place},
                body=_("Reported on %(day)s. The location shown is approximate.")
                % {"day": incident.occurred_from.date().isoformat()},
                link=link,
                lat=lat,
                lon=lon,
                offence_group=incident.offence_group,
                occurred_at=incident.occurred_from,
                public_since=public_since(incident, policy, zone),
            )
        published += event is not None
    return published
