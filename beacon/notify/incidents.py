"""Alerts for newly imported official incidents, with the public's view of them only.

An alert carries the masked public location (``beacon.incidents.privacy``: the centre of
the smallest H3 cell holding at least k distinct incident sites), the offence group and
the neighbourhood name — never the true point or the block address. Matching uses the
masked point too, so even a small radius learns nothing the public map would not show.
Sensitive offence groups (built in, and the community's own) never alert; incidents
older than ``BEACON_INCIDENT_ALERT_MAX_AGE_DAYS`` (history being loaded) never alert.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from beacon.core.models import Community
from beacon.notify import conf
from beacon.notify.models import Topic
from beacon.notify.services import publish_event


def _map_link(community: Community) -> str:
    try:
        return reverse("notify:alerts", args=[community.slug])
    except NoReverseMatch:
        return ""


def alert_new_incidents(community: Community, import_id: int) -> int:
    """Publish an alert for each new, recent, non-sensitive incident of an import.

    Idempotent: each incident's alert is keyed by its id, so re-running after a crash or
    re-importing the same file alerts nobody twice. Returns the alerts published.
    """
    from beacon.incidents.models import Incident, IncidentImport, IncidentStatus
    from beacon.incidents.privacy import policy_for, public_location
    from beacon.incidents.taxonomy import GROUPS

    record = IncidentImport.objects.filter(pk=import_id, community=community).first()
    if record is None:
        return 0
    sensitive = policy_for(community).sensitive_groups
    since = timezone.now() - timedelta(days=conf.incident_alert_max_age_days())
    rows = (
        Incident.objects.filter(
            community=community,
            last_import=record,
            occurred_from__gte=since,
            sensitive=False,
            lat__isnull=False,
            lon__isnull=False,
        )
        .exclude(status=IncidentStatus.UNFOUNDED)
        .exclude(offence_group__in=sensitive)
        .select_related("neighbourhood")
    )
    if record.started_at is not None:
        rows = rows.filter(created_at__gte=record.started_at)  # new, not updated
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
                key=f"incident:{incident.pk}",
                title=_("%(offence)s reported in %(place)s") % {"offence": label, "place": place},
                body=_("Reported on %(day)s. The location shown is approximate.")
                % {"day": incident.occurred_from.date().isoformat()},
                link=link,
                lat=lat,
                lon=lon,
                offence_group=incident.offence_group,
                occurred_at=incident.occurred_from,
            )
        published += event is not None
    return published
