"""Background work for incidents: uploaded imports, publication and public alerts."""

from __future__ import annotations

from django_tasks import task

from beacon.core.models import Community


@task()
def run_incident_import(import_id: int) -> str:
    """Import an uploaded file (see :func:`beacon.incidents.services.run_stored_import`)."""
    from beacon.incidents.services import run_stored_import

    record = run_stored_import(import_id)
    return record.status if record is not None else "missing"


@task()
def publish_incidents(community_id: int) -> int:
    """Rebuild a community's public tables; returns the number of published units."""
    from beacon.incidents.privacy import publish_community

    community = Community.objects.filter(pk=community_id).first()
    if community is None:
        return 0
    return publish_community(community).units


@task()
def alert_public_incidents(community_id: int) -> int:
    """Alert subscribers to incidents that have just become public (each at most once).

    Enqueued by every publication; see :mod:`beacon.notify.incidents`.
    """
    from beacon.notify.incidents import alert_public_incidents as alert

    community = Community.objects.filter(pk=community_id).first()
    if community is None:
        return 0
    return alert(community)
