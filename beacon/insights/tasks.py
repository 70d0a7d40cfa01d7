"""Background work of the insights app: computing runs and refreshing risk zones.

Tasks take ids only and are idempotent: a run is claimed before it is computed, and a
zone exists at most once per incident.
"""

from __future__ import annotations

from django_tasks import task

from beacon.core.models import Community


@task()
def run_analysis(run_id: int) -> str:
    """Compute a queued analysis run (see :func:`beacon.insights.services.execute_run`)."""
    from beacon.insights.services import execute_run

    run = execute_run(run_id)
    return run.status if run is not None else "missing"


@task()
def refresh_zones(community_id: int) -> int:
    """Create (and publish) the near-repeat zones of a community's new incidents."""
    from beacon.insights.zones import refresh_risk_zones

    community = Community.objects.filter(pk=community_id).first()
    if community is None:
        return 0
    return refresh_risk_zones(community).created
